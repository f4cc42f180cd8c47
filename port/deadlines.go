package port

import (
	"context"
	"time"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/routing"
)

// ServiceLevelTx is the optional ability of a Tx to index interactions by
// their service levels, found by type assertion. store/memory and
// store/postgres have it. Without it the Runner's Tick finds the due deadlines by
// reading every open interaction, and queues ordered by deadline
// (emailflow.Queue.OrderByDue) are routed in their usual order.
type ServiceLevelTx interface {
	// DueSLA returns the ids of up to limit interactions (all when limit
	// <= 0) whose SLA.Next is set and not after now, earliest SLA.Next
	// first, then by id. Its cost follows the number returned, not the
	// number of interactions stored.
	DueSLA(ctx context.Context, now time.Time, limit int) ([]string, error)
	// WaitingByDue is Waiting in another order: the interactions with an
	// SLA.Due first, earliest first, then the others; each group in
	// routing order (priority highest first, QueuedAt, CreatedAt, id).
	// Like Waiting it must be cheap for a small limit however long the
	// queue is.
	WaitingByDue(ctx context.Context, queue string, offset, limit int) ([]routing.Item, error)
}

// DeadlineClaimTx is an optional ability of a Tx (found by type
// assertion), beside ServiceLevelTx: it claims the interactions whose
// deadlines are due one at a time, so that the processes sharing a Store
// each take a different one instead of racing on the same and retrying.
// store/postgres has it (FOR UPDATE SKIP LOCKED).
type DeadlineClaimTx interface {
	// ClaimDueSLA returns an interaction whose SLA.Next is set and not
	// after now, earliest first, none of skip, locked until the
	// transaction ends; one another transaction holds is passed over. It
	// returns nil, nil when there is none.
	ClaimDueSLA(ctx context.Context, now time.Time, skip []string) (*interaction.Interaction, error)
}
