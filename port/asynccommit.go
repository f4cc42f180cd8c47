package port

// AsyncCommitTx is an optional ability of a Tx, found by type assertion:
// a transaction whose commit need not wait for durability. The Workspace
// asks for it only where losing the commit in a crash is the same as the
// crash having come just before it, so that what the transaction recorded
// is done again: the outcome of a delivery attempt (the item stays
// leased and is sent again, with the same bytes and Message-ID, once the
// lease runs out; delivery is at least once in any case). A store
// without it commits every transaction durably.
//
// store/postgres has it: the transaction commits with synchronous_commit
// off, so the commit does not wait for the write-ahead log to reach the
// disk (PostgreSQL's asynchronous commit: a crash may lose the last such
// transactions whole, never part of one, and never one that a durable
// commit after it depends on, as that commit flushes the log before it).
type AsyncCommitTx interface {
	// AsyncCommit lets the transaction's commit return before it is
	// durable. Called in a read-only transaction, it does nothing.
	AsyncCommit()
}
