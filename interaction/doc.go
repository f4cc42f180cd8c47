// Package interaction holds the Interaction aggregate of emailflow: an inbound
// email, an outbound email (reply, reply all, forward, new) or a consultation,
// with its state, owner, case data, notes, disposition and history.
//
// The package is pure: it decides whether a change is allowed and applies it
// to the value in memory. Loading and saving (with the version check) is the
// caller's job, normally the emailflow Workspace, which does it in one store
// transaction per action.
//
// State changes go through a state machine built with looplab/fsm for every
// operation from the stored state, as the machine itself keeps no memory
// between calls: [Interaction.Fire] validates the stored state, fires the
// event with a context that cannot be cancelled (a cancelled context can
// leave a looplab FSM wedged in transition) and, on success, appends a
// history entry. The FSM has no callbacks: effects belong to the caller's
// transaction, never to the machine.
package interaction
