//! What `profile` reports of a [`StepProfile`]: the table printed, `profile.json` and the bars
//! of `profile.png`.

use std::time::Duration;

use serde_json::json;

use super::profile::StepProfile;

/// Microseconds, as the report gives every time.
fn micros(time: Duration) -> f64 {
    time.as_secs_f64() * 1e6
}

impl StepProfile {
    /// The printed table: each phase in µs per step and as a share of their sum, then whole
    /// steps.
    pub fn table(&self) -> String {
        let total = micros(self.phases_total());
        let per_second = |time: Duration| 1.0 / time.as_secs_f64().max(1e-12);
        let mut lines = vec![format!("{:<18} {:>10} {:>7}", "phase", "µs/step", "share")];
        for (phase, time) in &self.phases {
            lines.push(format!(
                "{:<18} {:>10.1} {:>6.1}%",
                phase.name(),
                micros(*time),
                100.0 * micros(*time) / total.max(1e-12)
            ));
        }
        let sync_note = if self.backend.is_device() {
            "each phase ends with a device sync, which serialises the GPU's queue"
        } else {
            "each phase ends with a device sync (free on the CPU)"
        };
        let learner_own = micros(self.learner) - micros(self.unbracketed);
        lines.extend([
        format!("{:<18} {:>10.1} {:>6.1}%  {sync_note}", "phases, summed", total, 100.0),
        format!(
            "{:<18} {:>10.1}          the same steps without the syncs: {:.0} steps/s; phases are {:+.1}% of it",
            "unbracketed step",
            micros(self.unbracketed),
            per_second(self.unbracketed),
            100.0 * (total / micros(self.unbracketed).max(1e-12) - 1.0)
        ),
        format!(
            "{:<18} {:>10.1}          Burn's Learner with this program's loop, the second epoch of as many batches: {:.0} steps/s; phases are {:+.1}% of it",
            "Learner step",
            micros(self.learner),
            per_second(self.learner),
            100.0 * (total / micros(self.learner).max(1e-12) - 1.0)
        ),
        format!(
            "{:<18} {:>10.1}          the same with Burn's own loop (a hand-off to its metric thread a step): {:.0} steps/s",
            "Burn loop step",
            micros(self.burn_learner),
            per_second(self.burn_learner),
        ),
        format!(
            "{:<18} {:>+10.1}          the Learner's own share: its step minus the unbracketed one",
            "Learner's own", learner_own
        ),
    ]);
        lines.join("\n")
    }

    /// `profile.json`: every time in µs.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "backend": self.backend.name(),
            "device": self.device,
            "steps": self.steps,
            "batch_size": self.batch_size,
            "phases_us": self
                .phases
                .iter()
                .map(|(phase, time)| (phase.name().to_string(), json!(micros(*time))))
                .collect::<serde_json::Map<_, _>>(),
            "phases_total_us": micros(self.phases_total()),
            "unbracketed_step_us": micros(self.unbracketed),
            "learner_step_us": micros(self.learner),
            "burn_loop_step_us": micros(self.burn_learner),
        })
    }

    /// `profile.png`'s bars: each phase, labelled with its µs per step.
    pub fn bars(&self) -> Vec<(String, f64)> {
        self.phases
            .iter()
            .map(|(phase, time)| {
                (
                    format!("{} {:.1} µs", phase.name(), micros(*time)),
                    micros(*time),
                )
            })
            .collect()
    }
}
