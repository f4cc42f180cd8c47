// Package sla is the functional core of service levels: the promises a
// contact centre makes on its email (first response within 4 business
// hours, an answer to each further message within 8, resolution within 2
// days) as data, and the pure functions that keep each interaction's
// deadlines.
//
// A Policy holds three Targets: FirstResponse, NextResponse and
// Resolution. Each counts its time in a named business calendar (any
// Calendar; *businesstime.Calendar is one) or in wall-clock time, warns
// once a share of it is used, may stop its clock while the interaction is
// pending or a reply is in QA review (PauseOn), and lists the escalations
// its warning and breach fire (raise the priority, move to a queue, notify
// a supervisor). A Config says which policy applies to which interaction:
// rules by queue, route and priority, the first match winning, and a
// default; NewSet validates it.
//
// A Machine applies one policy. Its functions take an interaction's State
// (a small value the host stores with the interaction) and return a new
// one, with no I/O and no clock of their own:
//
//   - Apply takes what happened (Arrived, CustomerMessage, ReplySent,
//     PendingStarted, PendingEnded, ReviewStarted, ReviewEnded, Done,
//     Reopened);
//   - Fire returns what fell due by an instant (warnings, breaches with
//     their escalations, the wake-up of a pending period), each exactly
//     once, in the order it fell due;
//   - Next returns the instant at which Fire next has something to do,
//     the key of an index that spares a scan of every open interaction;
//   - Due returns the earliest running due time, to order a queue by;
//   - Status says where each deadline stands at an instant.
//
// What fires depends only on the events and their times, never on how
// often Fire runs: a reply sent after the due time is a breach even if no
// Fire ran in between, and a wake-up found late restarts the clocks at its
// own time. docs/sla.md has the rules and the reasons for them.
package sla
