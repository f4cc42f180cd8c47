// Package emailflow is an embeddable SDK for contact-center email: what an
// agent's email window does (receive, route, accept, reply, reply all,
// forward with instructions, transfer, park in a workbin, case data, notes,
// disposition, mark done) as one facade, the [Workspace].
//
// The host application plugs in its ports: a [Store] (store/memory is the
// embedded default), a [Sender] (transport/memory records what was sent), a
// [Directory] of contacts, a [Clock] and an [IDGenerator]. Every action loads
// what it needs from the Store, asks the pure domain packages (interaction,
// compose) what to do, writes all resulting changes in one transaction
// (state, history, outbox, events) and publishes events after the commit.
//
// Every action takes the acting agent's id and returns errors that match the
// sentinel errors of this package with errors.Is.
package emailflow
