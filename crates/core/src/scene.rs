//! Scenes and their firearm plans (SCENE-PLAN, REHEARSAL-COLD): rehearsal or take, which firearms,
//! with what load, in whose hands, pointed where, at what distances, behind what shields.

use crate::ids::{FirearmId, PersonId};
use crate::text::{Name, Text};

/// The distance below which blanks need a named close-range load the armorer approved
/// (BLANK-DISTANCE; the AEAA's 20 ft).
pub const CLOSE_RANGE_FEET: u16 = 20;

/// How strong a blank load is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlankStrength {
    /// Quarter load.
    Quarter,
    /// Half load.
    Half,
    /// Three-quarter load.
    ThreeQuarter,
    /// Full load.
    Full,
}

impl BlankStrength {
    /// In words.
    pub fn words(self) -> &'static str {
        match self {
            BlankStrength::Quarter => "quarter",
            BlankStrength::Half => "half",
            BlankStrength::ThreeQuarter => "three-quarter",
            BlankStrength::Full => "full",
        }
    }
}

/// What a plan with blanks records for a firearm (BLANK-DISTANCE).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlankPlan {
    /// The load's strength.
    pub strength: BlankStrength,
    /// The least distance, in feet, between the muzzle and anyone in the line of fire.
    pub min_distance_ft: u16,
    /// Below 20 ft: the named close-range load ("1/8 load, crimped, no wad"), which the armorer
    /// approves for this scene (`approve_close_range_load`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_range_load: Option<Name>,
}

impl BlankPlan {
    /// Closer than the close-range distance.
    pub fn close_range(&self) -> bool {
        self.min_distance_ft < CLOSE_RANGE_FEET
    }
}

/// Rehearsal or take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SceneKind {
    /// A rehearsal: cold or non-firing by default.
    Rehearsal,
    /// A take.
    Take,
}

/// What a safety meeting must go through, item by item (MEETING-CONTENT).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum MeetingItem {
    /// The intended action with the firearms, shot by shot.
    IntendedAction,
    /// What may go differently, and what then.
    Deviations,
    /// The plan to abort (who calls it, the word, what everyone does).
    AbortPlan,
    /// Emergency procedures, and the medic on set.
    EmergencyAndMedic,
    /// The chain of command.
    ChainOfCommand,
    /// A walk-through or dry run, done.
    WalkThrough,
}

impl MeetingItem {
    /// Every item, in the order a meeting goes through them.
    pub const ALL: [MeetingItem; 6] = [
        MeetingItem::IntendedAction,
        MeetingItem::Deviations,
        MeetingItem::AbortPlan,
        MeetingItem::EmergencyAndMedic,
        MeetingItem::ChainOfCommand,
        MeetingItem::WalkThrough,
    ];

    /// The snake_case name used in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            MeetingItem::IntendedAction => "intended_action",
            MeetingItem::Deviations => "deviations",
            MeetingItem::AbortPlan => "abort_plan",
            MeetingItem::EmergencyAndMedic => "emergency_and_medic",
            MeetingItem::ChainOfCommand => "chain_of_command",
            MeetingItem::WalkThrough => "walk_through",
        }
    }

    /// In words.
    pub fn words(self) -> &'static str {
        match self {
            MeetingItem::IntendedAction => "the intended action",
            MeetingItem::Deviations => "possible deviations",
            MeetingItem::AbortPlan => "the plan to abort",
            MeetingItem::EmergencyAndMedic => "emergency procedures and the medic",
            MeetingItem::ChainOfCommand => "the chain of command",
            MeetingItem::WalkThrough => "a walk-through or dry run",
        }
    }
}

/// The load a plan allows for a firearm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlannedLoad {
    /// Every chamber empty.
    Cold,
    /// Dummies.
    Dummies,
    /// Blanks.
    Blanks,
}

/// One firearm of a scene's plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedFirearm {
    /// Which firearm.
    pub firearm: FirearmId,
    /// Its planned load.
    pub load: PlannedLoad,
    /// The performer who handles it.
    pub handler: PersonId,
    /// Where the muzzle points ("camera left, away from crew, 30° off the lens axis").
    pub muzzle_direction: Text,
    /// With blanks: their strength and the least distance to anyone in the line of fire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blanks: Option<BlankPlan>,
}

/// A scene's firearm plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirearmPlan {
    /// Firearms in the scene; at least one.
    pub firearms: Vec<PlannedFirearm>,
    /// Safe distances ("20 ft from any person for quarter-load blanks").
    pub distances: Text,
    /// Shields for crew in line of fire, if any.
    pub shields: Option<Text>,
    /// The camera is operated remotely (no operator in line of fire).
    pub remote_camera: bool,
    /// In a rehearsal, the written exception that allows blanks (REHEARSAL-COLD).
    pub blanks_in_rehearsal_exception: Option<Text>,
    /// The scene is shot at a public location (a street, a park): its name. Blanks there need
    /// the day's permit and police notification on record before call time (PUBLIC-NOTICE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_location: Option<Name>,
}

impl FirearmPlan {
    /// The plan's entry for `firearm`.
    pub fn entry(&self, firearm: &FirearmId) -> Option<&PlannedFirearm> {
        self.firearms.iter().find(|p| &p.firearm == firearm)
    }
}
