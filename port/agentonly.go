package port

import "context"

// AgentOnlyTx is an optional ability of a Tx, found by type assertion:
// AgentOnly is Agent for a transaction that decides nothing on the
// agent's load and does not write the agent (accepting an offer or a
// transfer, starting a draft). A store may read the agent without what
// Agent does for capacity: the count of its load, and the lock that makes
// actions on one agent take turns. Whatever the transaction then writes
// is guarded as any write is (a write that moves load to an agent, as
// accepting a transfer does, still takes what that agent's capacity
// guard needs). store/postgres has it: Agent there locks the agent's row
// and counts its load in one round trip; AgentOnly reads the row alone,
// without waiting for another transaction that holds it.
type AgentOnlyTx interface {
	// AgentOnly returns the agent with id, or ErrNotFound, as Agent does.
	AgentOnly(ctx context.Context, id string) (*Agent, error)
}
