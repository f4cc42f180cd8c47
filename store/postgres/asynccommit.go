package postgres

// AsyncCommit implements port.AsyncCommitTx: the transaction commits with
// synchronous_commit off, for this transaction only (SET LOCAL), so its
// COMMIT returns once the write-ahead log holds it, without waiting for
// the disk. The setting rides with the transaction's next statement, and
// as an optional one: a transaction that does nothing else still commits
// nothing. A store whose server already commits asynchronously, or waits
// for replicas, is changed for this transaction alone.
func (t *txn) AsyncCommit() {
	if t.done || t.readOnly || t.async {
		return
	}
	t.async = true
	t.tx.pending = append(t.tx.pending, pendingStmt{what: "commit asynchronously", sql: "SET LOCAL synchronous_commit TO OFF", optional: true})
}
