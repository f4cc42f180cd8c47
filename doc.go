// Package emailflow is an embeddable SDK for contact-center email: what an
// agent's email window does (receive, route, accept, reply, reply all,
// forward with instructions, transfer, consult, park in a workbin, case
// data, notes, disposition, mark done, QA review) behind one facade, the
// [Workspace].
//
// The host application plugs in its ports (package port, re-exported
// here): a [Store] (store/memory is the embedded default), a [Sender]
// (transport/memory records what was sent), a [Directory] of contacts, a
// [Clock] and an [IDGenerator]. Every action loads what it needs from the
// Store, asks the pure domain packages (interaction, compose, routing, qa)
// what to do, writes all resulting changes in one transaction (state,
// history, outbox, events) and publishes events after the commit.
//
// The Workspace holds configuration and intake ([Workspace.Ingest]); an
// agent acts through the [Actor] that [Workspace.As] returns, for every
// action and every read of what they may see; a [Runner] drives timers and
// the outbox on the Clock. Results carry what the caller needs next (a
// [Draft], a [Sent] email with its [Delivery]), and errors match the
// sentinel errors of this package with errors.Is.
package emailflow
