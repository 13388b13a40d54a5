//! Scenes and their firearm plans (SCENE-PLAN, REHEARSAL-COLD): rehearsal or take, which firearms,
//! with what load, in whose hands, pointed where, at what distances, behind what shields.

use crate::ids::{FirearmId, PersonId};
use crate::text::Text;

/// Rehearsal or take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SceneKind {
    /// A rehearsal: cold or non-firing by default.
    Rehearsal,
    /// A take.
    Take,
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
}

impl FirearmPlan {
    /// The plan's entry for `firearm`.
    pub fn entry(&self, firearm: &FirearmId) -> Option<&PlannedFirearm> {
        self.firearms.iter().find(|p| &p.firearm == firearm)
    }
}
