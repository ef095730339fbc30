//! Schedules (SPEC §6.3): cron parsing and time-zone lowering for scaling CronJobs.
//!
//! Used by the validate phase, which turns each `[[autoscaling.schedule]]` entry or preset into
//! checked model values (an inexpressible `utc` schedule is an input error, and render cannot
//! fail), and by `explain`. In: a cron string in a zone's wall-clock time, the zone (an IANA name
//! resolved to `chrono_tz::Tz`, the tz database compiled into the binary) and
//! `schedule.valid_from`. Out: a parsed [`Cron`] (or a [`CronError`] with a byte span for a
//! caret), and per strategy: `utc` — exact UTC crons up to 2100 ([`to_utc`], memoised by
//! [`ConversionCache`]) or a [`ConvertError`] naming the first inexpressible instant; `guarded`
//! — a superset of UTC crons ([`guarded_superset`]) and the zone's offset table
//! ([`offset_table`]) for the guard script; `explain` — [`next_firings`] and [`transitions`].
//! The `native` strategy needs only [`Cron::parse`]. The level-triggered reconcile job (§16)
//! embeds the same offset table; [`in_force`] is the entry it sets at an instant.
//!
//! - [`cron`]: parsing with Kubernetes' (robfig/cron v3) rules, matching, canonical printing.
//! - [`convert`]: the `utc` exactness analysis and the `guarded` superset.
//! - [`zone`]: offset periods and changes, DST transitions, next firings.
//! - [`reconcile`]: the entry in force at an instant (SPEC §16).

pub mod convert;
pub mod cron;
pub mod reconcile;
pub mod zone;

pub use convert::{ConversionCache, ConvertError, guarded_superset, to_utc};
pub use cron::{Cron, CronError, CronField, UnsupportedFeature};
pub use reconcile::{InForce, RECONCILE_SUFFIX, RECONCILE_WINDOW_MINUTES, in_force};
pub use zone::{Firing, OffsetChange, Transition, horizon_end, next_firings, offset_table, transitions};
