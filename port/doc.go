// Package port holds the interfaces a host plugs into an emailflow
// Workspace (Store and its transactions, Sender, Directory, Dialer,
// Clock, IDGenerator), the records they carry (emails, outbox items,
// events, agents, checkpoints, sender rules) and the errors they return.
//
// It is a leaf: adapters (store/memory, store/postgres, a host's own)
// import it and the domain packages, never the root package, as a
// database/sql driver imports database/sql/driver rather than the
// program using it. The root package re-exports every name here with a
// type alias (emailflow.Email is port.Email), so a host needs only
// emailflow.
package port
