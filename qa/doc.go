// Package qa is the email quality-assurance review cycle of emailflow: the
// policies that decide, when an agent sends, whether a reviewer must approve
// the email first; the rules of a review round (submit, reviewer edit,
// approve, reject, withdraw; four eyes; the content hash that freezes the
// reviewed version); and metrics over rounds.
//
// The package is pure: it imports nothing but the interaction package and
// does no I/O. The emailflow Workspace loads the outbound interaction,
// asks this package, and saves the result in one store transaction:
// Workspace.Send consults the Options.ReviewPolicy, Workspace.Approve,
// Reject, ReviewEdit and Withdraw apply the decisions, Workspace.Rounds and
// Workspace.Metrics read them back.
//
// A round lives on the outbound interaction (interaction.Round, re-exported
// here as Round); its review is a separate interaction of kind
// interaction.KindReview, queued and routed to reviewers like any other
// work.
package qa
