//! Incidents (DISCHARGE-REPORT, INCIDENT-STOP) and the wrap reconciliation (WRAP-RECONCILE).

use super::*;

impl<'a> Cx<'a> {
    /// Decides the acts of this module; `run` routes only these commands here.
    pub(super) fn incidents(&mut self, command: &Command) -> Result<(), Refusal> {
        match command {
            Command::ReportDischarge {
                firearm,
                kind,
                positions,
                description,
            } => {
                self.actor_for("report a discharge")?;
                let f = self.firearm(firearm)?;
                self.positions(f, firearm, positions)?;
                let chambers = f.chambers.as_deref().unwrap_or_default();
                let fired: Vec<u16> = positions
                    .iter()
                    .copied()
                    .filter(|p| {
                        matches!(
                            chambers.get(usize::from(*p) - 1),
                            Some(Chamber::Round { .. })
                        )
                    })
                    .collect();
                // The lots of the "dummies" that fired: held until the incident is closed.
                let mut dummy_lots: Vec<LotId> = Vec::new();
                for p in positions {
                    if let Some(Chamber::Round {
                        kind: AmmoKind::Dummy,
                        lot,
                        ..
                    }) = chambers.get(usize::from(*p) - 1)
                        && !dummy_lots.contains(lot)
                    {
                        dummy_lots.push(lot.clone());
                    }
                }
                let dummy_fired = !dummy_lots.is_empty();
                // A misfire fired nothing: its rounds stay in their positions, to be recovered
                // on their own (never unloaded into a container) and counted out, not as fired.
                let misfire = *kind == DischargeKind::Misfire;
                if !fired.is_empty() && !misfire {
                    self.events.push(Event::RoundsExpended {
                        firearm: firearm.clone(),
                        positions: fired.clone(),
                        planned: false,
                    });
                }
                self.events.push(Event::BoreFouled {
                    firearm: firearm.clone(),
                    cause: if misfire {
                        crate::state::FoulCause::Misfire
                    } else {
                        crate::state::FoulCause::Discharge
                    },
                    positions: if misfire { fired } else { Vec::new() },
                });
                let (ikind, severity, covers) = if dummy_fired {
                    (IncidentKind::LiveRound, Severity::Critical, Cover::All)
                } else {
                    let k = match kind {
                        DischargeKind::Misfire => IncidentKind::Misfire,
                        DischargeKind::Accidental => IncidentKind::UnplannedDischarge,
                    };
                    (k, Severity::Stop, Cover::Firearms(vec![firearm.clone()]))
                };
                self.open_incident(
                    ikind,
                    severity,
                    covers,
                    description.clone(),
                    Some(self.actor.person.clone()),
                );
                if let Some(Event::IncidentOpened { incident, .. }) = self.events.last() {
                    let incident = incident.clone();
                    for lot in dummy_lots {
                        self.events.push(Event::LotHeld {
                            lot,
                            incident: incident.clone(),
                        });
                    }
                }
                Ok(())
            }
            Command::ReportIncident {
                kind,
                severity,
                covers,
                description,
                anonymous,
            } => {
                self.actor_for("report an incident")?;
                if *anonymous && !self.policy.anonymous_incident_reports {
                    return no(
                        RuleId::Role,
                        "this production's policy does not take anonymous incident reports",
                        "report under your name, or ask the safety representative",
                    );
                }
                if let Cover::Firearms(list) = covers {
                    if list.is_empty() {
                        return no(
                            RuleId::State,
                            "the incident covers no firearm",
                            "name the firearms it concerns, or cover all firearms",
                        );
                    }
                    for f in list {
                        self.firearm(f)?;
                    }
                }
                let reporter = if *anonymous {
                    None
                } else {
                    Some(self.actor.person.clone())
                };
                // LIVE-NEVER: a live round found anywhere stops all firearm work, whatever was asked.
                let (severity, covers) = match (kind, covers) {
                    (IncidentKind::LiveRound, _) => (Severity::Critical, Cover::All),
                    (_, Cover::Firearms(list)) => {
                        let unique: BTreeSet<&FirearmId> = list.iter().collect();
                        (
                            *severity,
                            Cover::Firearms(unique.into_iter().cloned().collect()),
                        )
                    }
                    (_, Cover::All) => (*severity, Cover::All),
                };
                self.open_incident(*kind, severity, covers, description.clone(), reporter);
                Ok(())
            }
            Command::CloseIncident {
                incident,
                findings,
                safety_rep,
            } => {
                self.custodian_actor(RuleId::IncidentStop, "close incidents")?;
                let i = self.incident(incident)?;
                if let Some(c) = &i.closed {
                    return no(
                        RuleId::State,
                        format!(
                            "incident {incident} was already closed at entry {} by {}",
                            c.entry,
                            self.who(&c.closed_by)
                        ),
                        "nothing to close; a new finding is a new incident or a correction of the closing entry",
                    );
                }
                self.confirmer(
                    safety_rep,
                    Role::SafetyRep,
                    RuleId::IncidentStop,
                    "closing the incident",
                )?;
                if i.kind == IncidentKind::MissingFirearm && i.police_report.is_none() {
                    return no(
                        RuleId::MissingReport,
                        format!(
                            "incident {incident}, a missing firearm, has no police report number on record"
                        ),
                        "report it to the police and record the report number (record police report), then close it with findings",
                    );
                }
                if let Some(licence) = self.licensed_supplier(i)
                    && i.atf_incident.is_none()
                {
                    return no(
                        RuleId::MissingReport,
                        format!(
                            "incident {incident}: the missing firearm came from a licensed supplier (licence {licence}), and no ATF incident number is on record"
                        ),
                        "the supplier reports the loss to the ATF; record the ATF incident number with the police report, then close it with findings",
                    );
                }
                if safety_rep.person == self.actor.person {
                    return no(
                        RuleId::IncidentStop,
                        "the same person cannot close the incident as armorer and confirm it as safety representative",
                        "a second person, the safety representative, confirms",
                    );
                }
                self.events.push(Event::IncidentClosed {
                    incident: incident.clone(),
                    findings: findings.clone(),
                    closed_by: self.actor.person.clone(),
                    safety_rep: safety_rep.person.clone(),
                    at: self.now,
                });
                Ok(())
            }
            Command::ReportMissing {
                firearm,
                description,
            } => {
                self.actor_for("report a missing firearm")?;
                self.firearm(firearm)?;
                let text =
                    crate::text::Text::parse(&format!("firearm {firearm} missing: {description}"))
                        .map_err(|e| {
                            Refusal::new(
                                RuleId::State,
                                e.to_string(),
                                "write a shorter description",
                            )
                        })?;
                // Nobody knows where it is, or what is in it: all firearm work stops.
                self.open_incident(
                    IncidentKind::MissingFirearm,
                    Severity::Critical,
                    Cover::All,
                    text,
                    Some(self.actor.person.clone()),
                );
                if let Some(Event::IncidentOpened { firearm: f, .. }) = self.events.last_mut() {
                    *f = Some(firearm.clone());
                }
                Ok(())
            }
            Command::RecordPoliceReport {
                incident,
                police_report,
                atf_incident,
            } => {
                self.actor_for("record police reports")?;
                let i = self.incident(incident)?;
                if i.kind != IncidentKind::MissingFirearm {
                    return no(
                        RuleId::State,
                        format!(
                            "incident {incident} is {}, not a missing firearm",
                            kind_words(i.kind)
                        ),
                        "record the police report on the missing firearm's incident",
                    );
                }
                self.events.push(Event::PoliceReportRecorded {
                    incident: incident.clone(),
                    police_report: police_report.clone(),
                    atf_incident: atf_incident.clone(),
                });
                Ok(())
            }
            Command::Reconcile { day, counts } => self.reconcile(*day, counts),
            _ => misrouted(command),
        }
    }

    fn reconcile(&mut self, day: Date, counts: &[ContainerCount]) -> Result<(), Refusal> {
        self.custodian_actor(RuleId::Role, "reconcile at wrap")?;
        if day > self.today {
            return no(
                RuleId::State,
                format!("{day} has not happened yet"),
                "reconcile today or an earlier day",
            );
        }
        if self
            .state
            .days
            .get(&day)
            .is_some_and(|d| d.reconciled.is_some())
        {
            return no(
                RuleId::State,
                format!("{day} was already reconciled"),
                "nothing to do; a wrong count is fixed by a correction",
            );
        }
        let mut seen = BTreeSet::new();
        for c in counts {
            self.container(&c.container)?;
            if !seen.insert(&c.container) {
                return no(
                    RuleId::State,
                    format!("container {} is counted twice", c.container),
                    "give one count per container",
                );
            }
        }
        let missing: Vec<String> = self
            .state
            .containers
            .iter()
            .filter(|(id, c)| c.count > 0 && !seen.contains(id))
            .map(|(id, _)| id.to_string())
            .collect();
        if !missing.is_empty() {
            return no(
                RuleId::WrapReconcile,
                format!(
                    "container(s) {} hold rounds on record but were not counted",
                    missing.join(", ")
                ),
                "count every container that holds rounds",
            );
        }
        let mut results = Vec::with_capacity(counts.len());
        for c in counts {
            let Some(container) = self.state.containers.get(&c.container) else {
                continue;
            };
            let expected = u32::try_from(container.count).unwrap_or(u32::MAX);
            results.push(CountResult {
                container: c.container.clone(),
                lot: container.lot.clone(),
                expected,
                counted: c.count.get(),
            });
        }
        let firearms_out: Vec<FirearmId> = self
            .state
            .firearms
            .iter()
            .filter(|(_, f)| match &f.custody {
                Custody::Stored { location } => {
                    !self.state.locations.get(location).is_some_and(|l| l.locked)
                }
                _ => true,
            })
            .map(|(id, _)| id.clone())
            .collect();
        let differences: Vec<String> = results
            .iter()
            .filter(|r| r.expected != r.counted)
            .map(|r| {
                format!(
                    "container {} holds {} rounds, {} on record",
                    r.container, r.counted, r.expected
                )
            })
            .chain(
                firearms_out
                    .iter()
                    .map(|f| format!("firearm {f} is not in locked storage")),
            )
            .collect();
        let balanced = differences.is_empty();
        self.events.push(Event::Reconciled {
            day,
            counts: results,
            firearms_out,
            balanced,
            by: self.actor.person.clone(),
        });
        if !balanced {
            let text = format!(
                "wrap reconciliation of {day} does not balance: {}",
                differences.join("; ")
            );
            let clipped: String = text.chars().take(crate::text::TEXT_MAX).collect();
            if let Ok(description) = Text::parse(&clipped) {
                self.open_incident(
                    IncidentKind::CountMismatch,
                    Severity::Stop,
                    Cover::All,
                    description,
                    Some(self.actor.person.clone()),
                );
            }
        }
        Ok(())
    }
}

impl Cx<'_> {
    /// The licence of the licensed supplier of a missing-firearm incident's firearm, if any.
    fn licensed_supplier(&self, i: &Incident) -> Option<&crate::text::Name> {
        let f = self.state.firearms.get(i.firearm.as_ref()?)?;
        f.supplier_licence.as_ref()
    }
}
