// Package postgres is an emailflow Store and Directory kept in PostgreSQL
// (through github.com/jackc/pgx/v5), so that many application instances
// share one database: interactions, emails, outbox, events, agents'
// routing state, ingest claims and contacts.
//
// Open or New return a Store; Migrate brings its tables to the newest
// version, running the numbered migrations embedded in the package that
// the database has not had (New runs it unless Options.NoMigrate), and
// refuses a database a newer release migrated (ErrSchemaTooNew).
// Options.Schema puts the tables in a schema of their own.
//
// Update runs in a READ COMMITTED transaction, View in a REPEATABLE READ
// READ ONLY one. The invariants hold across processes:
//
//   - One owner: UpdateInteraction writes WHERE id = $1 AND version = $2;
//     of two transactions writing the same version, the second waits for
//     the first, then finds the version changed and gets ErrConflict.
//   - Capacity: in a read-write transaction, Tx.Agent locks the agent's
//     row (SELECT … FOR UPDATE) until the end of the transaction, and a
//     write that makes an interaction take an agent's capacity takes the
//     same lock first; if the agent's load changed since the transaction
//     read it (AvailableAgents, Load) and the agent has no room left, the
//     write is refused with ErrConflict and the Workspace re-runs the
//     action on fresh data. Routing decisions of one queue take turns on
//     an advisory lock, so that instances do not all offer to the same
//     agent at once.
//   - Idempotent ingest: ClaimIngest is INSERT … ON CONFLICT DO NOTHING on
//     a primary key.
//
// Routing reads are index range scans: Waiting reads the partial index
// interactions_waiting (queue, priority DESC, queued_at, created_at, id)
// WHERE state = 'queued'; AvailableAgents reads agent_queues by the
// partial index of ready agents with room (queue, idle_since, agent_id)
// WHERE ready AND has_room, and counts each returned agent's load with the
// partial index on interactions.load_agent, a generated column naming the
// agent whose capacity an interaction takes. has_room is set, by every
// transaction that changes an agent's load, from a count made under the
// agent's row lock, so it cannot drift from the load.
//
// Several instances share the work and see each other's events: the
// Store's Tx claims due timers and outbox items (FOR UPDATE SKIP LOCKED on
// partial indexes of the due time, see port.TimerTx and
// port.OutboxClaimTx), so each is handled once; and the Store is a
// port.EventFeed: committed events are numbered in commit order by a
// sequencer under an advisory lock, the events table being the source and
// LISTEN/NOTIFY the wake-up, so that Subscribe on any instance gets the
// events of all, with a cursor to resume after.
//
// A transaction sends the statements whose answer it does not read (its
// BEGIN, locks taken before a read, cache refreshes, inserts of events
// whose numbers it took ahead) with the next statement, in one batch, and
// an action sends ahead the reads it knows it will make; a write whose
// check only decides whether the transaction commits is checked by the
// server, and rides with the statements after it or COMMIT: a lifecycle
// is 16 round trips.
//
// See docs/postgres.md for the schema and figures.
package postgres
