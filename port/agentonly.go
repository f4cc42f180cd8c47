package port

import "context"

// AgentOnlyTx is an optional ability of a Tx, found by type assertion:
// AgentOnly is Agent for a transaction that will not read the agent's
// load. A store that reads an agent's load with the agent, so that Load
// after Agent costs nothing, may leave the load out here; Load still
// answers, at its own cost. store/postgres has it: Agent there counts the
// load in the same round trip as the row lock, AgentOnly takes the lock
// alone.
type AgentOnlyTx interface {
	// AgentOnly returns the agent with id, or ErrNotFound, as Agent does
	// (with the same locking).
	AgentOnly(ctx context.Context, id string) (*Agent, error)
}
