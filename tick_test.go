package emailflow_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// TestTickRechecksTheOfferItTimesOut: Tick finds the offers that ran out
// in one read, then times each out in its own transaction. Whatever
// happened to the offer in between (declined and offered to someone
// else, a transfer declined and made again to the same agent, accepted),
// the offer that ran out is gone: Tick changes nothing, neither the
// interaction nor any agent's status.
func TestTickRechecksTheOfferItTimesOut(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		agents []string
		// transfer: the agent first offered the mail accepts it and
		// transfers it to the other agent, whose pending transfer runs out.
		transfer bool
		// meanwhile runs between Tick's read and its write.
		meanwhile func(t *testing.T, ws *emailflow.Workspace, id, offered string)
	}{
		{"declined and offered to another agent", []string{"alice", "bob"}, false,
			func(t *testing.T, ws *emailflow.Workspace, id, offered string) {
				require.NoError(t, ws.As(offered).Decline(ctx, id, "busy"))
				it, err := ws.As(admin).Interaction(ctx, id)
				require.NoError(t, err)
				require.Equal(t, interaction.StateOffered, it.State)
				require.NotEqual(t, offered, it.OfferedTo)
			}},
		{"transfer declined and made again to the same agent", []string{"alice", "bob"}, true,
			func(t *testing.T, ws *emailflow.Workspace, id, offered string) {
				require.NoError(t, ws.As(offered).Decline(ctx, id, "busy"))
				it, err := ws.As(admin).Interaction(ctx, id)
				require.NoError(t, err)
				require.Equal(t, interaction.StateHandling, it.State, "back to the agent who transferred it")
				require.NoError(t, ws.As(it.Owner).Transfer(ctx, id, emailflow.TransferTarget{Agent: offered, Note: "please"}))
				it, err = ws.As(admin).Interaction(ctx, id)
				require.NoError(t, err)
				require.Equal(t, offered, it.OfferedTo, "the same agent, a new offer")
			}},
		{"accepted", []string{"alice"}, false,
			func(t *testing.T, ws *emailflow.Workspace, id, offered string) {
				_, err := ws.As(offered).Accept(ctx, id)
				require.NoError(t, err)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &interleave{Store: memory.New(nil)}
			c := clockwork.NewFakeClockAt(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
			ws, err := emailflow.New(emailflow.Ports{Store: store, Directory: store.Store.(emailflow.Directory), Sender: &transport.Sender{}, Clock: c}, &emailflow.Options{
				AcceptTimeout: 10 * time.Second,
				Mailboxes:     []emailflow.Mailbox{{Address: support, Queue: "support-fr"}},
			})
			require.NoError(t, err)
			require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: admin, Roles: []emailflow.Role{emailflow.RoleAdmin}}))
			for _, a := range tt.agents {
				require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: a, Queues: []string{"support-fr"}, Capacity: 5}))
				require.NoError(t, ws.As(a).SetStatus(ctx, emailflow.StatusReady))
			}
			in, err := ws.Ingest(ctx, support, bytes.NewReader(newMail("tick")))
			require.NoError(t, err)
			it, err := ws.As(admin).Interaction(ctx, in.ID)
			require.NoError(t, err)
			offered := it.OfferedTo
			require.NotEmpty(t, offered)
			if tt.transfer {
				_, err = ws.As(offered).Accept(ctx, in.ID)
				require.NoError(t, err)
				to := tt.agents[0]
				if to == offered {
					to = tt.agents[1]
				}
				require.NoError(t, ws.As(offered).Transfer(ctx, in.ID, emailflow.TransferTarget{Agent: to}))
				offered = to
			}

			c.Advance(10 * time.Second)
			// state reads what Tick must leave alone: the interaction and
			// every agent's status.
			state := func() []any {
				it, err := ws.As(admin).Interaction(ctx, in.ID)
				require.NoError(t, err)
				out := []any{it}
				for _, id := range tt.agents {
					a, err := ws.Agent(ctx, id)
					require.NoError(t, err)
					out = append(out, a.Status)
				}
				return out
			}
			var before []any
			// Runs right after Tick's first read, the one that finds the due offers.
			store.hook = func() {
				tt.meanwhile(t, ws, in.ID, offered)
				before = state()
			}
			n, err := ws.Runner(nil).Tick(ctx)
			require.NoError(t, err)
			require.NotNil(t, before, "the change ran between Tick's read and its write")
			assert.Zero(t, n, "the offer that ran out is gone: nothing timed out")
			assert.Equal(t, before, state(), "Tick changed nothing")
		})
	}
}
