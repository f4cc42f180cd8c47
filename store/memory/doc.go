// Package memory is emailflow's embedded default storage: a concurrency-safe
// in-memory Store that also implements the Directory of contacts.
//
// A read-write transaction holds the store's lock for its whole duration,
// so transactions are serializable; writes are applied at once and undone
// when the transaction function fails, which makes rollback cheap. Values
// are copied in and out, so callers never share memory with the store
// (attachment bodies and raw messages excepted: they are never changed in
// place). Nothing survives the process: use store/postgres to keep data.
package memory
