package emailflow_test

import (
	"bytes"
	"context"
	"net/mail"
	"testing"
	"time"

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
				require.NoError(t, ws.Decline(ctx, offered, id, "busy"))
				it, err := ws.Interaction(ctx, admin, id)
				require.NoError(t, err)
				require.Equal(t, interaction.StateOffered, it.State)
				require.NotEqual(t, offered, it.OfferedTo)
			}},
		{"transfer declined and made again to the same agent", []string{"alice", "bob"}, true,
			func(t *testing.T, ws *emailflow.Workspace, id, offered string) {
				require.NoError(t, ws.Decline(ctx, offered, id, "busy"))
				it, err := ws.Interaction(ctx, admin, id)
				require.NoError(t, err)
				require.Equal(t, interaction.StateHandling, it.State, "back to the agent who transferred it")
				require.NoError(t, ws.Transfer(ctx, it.Owner, id, emailflow.TransferTarget{Agent: offered, Note: "please"}))
				it, err = ws.Interaction(ctx, admin, id)
				require.NoError(t, err)
				require.Equal(t, offered, it.OfferedTo, "the same agent, a new offer")
			}},
		{"accepted", []string{"alice"}, false,
			func(t *testing.T, ws *emailflow.Workspace, id, offered string) {
				_, err := ws.Accept(ctx, offered, id)
				require.NoError(t, err)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &interleave{Store: memory.New(nil)}
			c := &clock{now: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
			ws, err := emailflow.New(emailflow.Ports{Store: store, Directory: store.Store.(emailflow.Directory), Sender: &transport.Sender{}, Clock: c}, &emailflow.Options{
				AcceptTimeout: 10 * time.Second,
				Mailboxes:     []emailflow.Mailbox{{Address: mail.Address{Address: support}, Queue: "support-fr"}},
			})
			require.NoError(t, err)
			require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: admin, Roles: []emailflow.Role{emailflow.RoleAdmin}}))
			for _, a := range tt.agents {
				require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: a, Queues: []string{"support-fr"}, Capacity: 5}))
				require.NoError(t, ws.SetStatus(ctx, a, emailflow.StatusReady))
			}
			in, err := ws.Ingest(ctx, support, bytes.NewReader(newMail("tick")))
			require.NoError(t, err)
			it, err := ws.Interaction(ctx, admin, in.ID)
			require.NoError(t, err)
			offered := it.OfferedTo
			require.NotEmpty(t, offered)
			if tt.transfer {
				_, err = ws.Accept(ctx, offered, in.ID)
				require.NoError(t, err)
				to := tt.agents[0]
				if to == offered {
					to = tt.agents[1]
				}
				require.NoError(t, ws.Transfer(ctx, offered, in.ID, emailflow.TransferTarget{Agent: to}))
				offered = to
			}

			c.Advance(10 * time.Second)
			// state reads what Tick must leave alone: the interaction and
			// every agent's status.
			state := func() []any {
				it, err := ws.Interaction(ctx, admin, in.ID)
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
			n, err := ws.Tick(ctx)
			require.NoError(t, err)
			require.NotNil(t, before, "the change ran between Tick's read and its write")
			assert.Zero(t, n, "the offer that ran out is gone: nothing timed out")
			assert.Equal(t, before, state(), "Tick changed nothing")
		})
	}
}
