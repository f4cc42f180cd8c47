package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
)

// putAgents stores agents, each in its own transaction.
func putAgents(t *testing.T, s emailflow.Store, as ...*emailflow.Agent) {
	t.Helper()
	for _, a := range as {
		update(t, s, func(ctx context.Context, tx emailflow.Tx) {
			require.NoError(t, tx.PutAgent(ctx, a), "put agent %s", a.ID)
		})
	}
}

// getAgent returns the agent with id, which must exist.
func getAgent(t *testing.T, s emailflow.Store, id string) *emailflow.Agent {
	t.Helper()
	var a *emailflow.Agent
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		a, err = tx.Agent(ctx, id)
		require.NoError(t, err)
	})
	return a
}

// agents returns Agents(queue).
func agents(t *testing.T, s emailflow.Store, queue string) []*emailflow.Agent {
	t.Helper()
	var as []*emailflow.Agent
	view(t, s, func(ctx context.Context, tx emailflow.Tx) {
		var err error
		as, err = tx.Agents(ctx, queue)
		require.NoError(t, err)
	})
	return as
}

func testAgent(t *testing.T, newStore newFunc) {
	t.Run("NotFound", func(t *testing.T) {
		s := fresh(t, newStore)
		putAgents(t, s, agent("ann", "sales"))
		view(t, s, func(ctx context.Context, tx emailflow.Tx) {
			a, err := tx.Agent(ctx, "unknown")
			assert.ErrorIs(t, err, emailflow.ErrNotFound)
			assert.Nil(t, a)
		})
	})

	t.Run("RoundTrip", func(t *testing.T) {
		s := fresh(t, newStore)
		bare := &emailflow.Agent{ID: "bare"}
		for _, a := range []*emailflow.Agent{agent("ann", "sales", "support"), bare} {
			putAgents(t, s, a.Clone())
			same(t, a, getAgent(t, s, a.ID))
		}
	})

	t.Run("Replace", func(t *testing.T) {
		s := fresh(t, newStore)
		putAgents(t, s, agent("ann", "sales"))
		a := getAgent(t, s, "ann")
		a.Status, a.Queues, a.Roles, a.UpdatedAt = emailflow.StatusNotResponding, []string{"support"}, nil, at(5)
		putAgents(t, s, a)
		same(t, a, getAgent(t, s, "ann"))
		assert.Equal(t, []string{"ann"}, agentIDs(agents(t, s, "")))
		assert.Empty(t, agents(t, s, "sales"))
		assert.Equal(t, []string{"ann"}, agentIDs(agents(t, s, "support")))
	})

	t.Run("ByQueue", func(t *testing.T) {
		s := fresh(t, newStore)
		putAgents(t, s,
			agent("carol", "sales", "support"),
			agent("ann", "sales"),
			agent("erin"),
			agent("bob", "support"),
			agent("dave", "billing", "sales"))
		for _, tc := range []struct {
			queue string
			want  []string
		}{
			{"", []string{"ann", "bob", "carol", "dave", "erin"}},
			{"sales", []string{"ann", "carol", "dave"}},
			{"support", []string{"bob", "carol"}},
			{"billing", []string{"dave"}},
			{"Sales", nil},
			{"unknown", nil},
		} {
			t.Run("Queue="+tc.queue, func(t *testing.T) {
				got := agents(t, s, tc.queue)
				if len(tc.want) == 0 {
					assert.Empty(t, got)
					return
				}
				assert.Equal(t, tc.want, agentIDs(got))
				for _, a := range got {
					same(t, agent(a.ID, a.Queues...), a)
				}
			})
		}
	})

	t.Run("Copies", func(t *testing.T) {
		mutate := func(a *emailflow.Agent) {
			a.Queues[0], a.Roles[0], a.Status = "billing", emailflow.RoleSupervisor, emailflow.StatusLoggedOut
			a.Skills["billing"], a.Skills["new"] = 0, 1
			a.Languages[0], a.Groups[0] = "de", "team-x"
		}
		sources := []struct {
			name string
			get  func(t *testing.T, s emailflow.Store) *emailflow.Agent
		}{
			{"AfterPut", func(t *testing.T, s emailflow.Store) *emailflow.Agent {
				a := agent("ann", "sales")
				putAgents(t, s, a)
				return a
			}},
			{"FromAgent", func(t *testing.T, s emailflow.Store) *emailflow.Agent {
				putAgents(t, s, agent("ann", "sales"))
				return getAgent(t, s, "ann")
			}},
			{"FromAgents", func(t *testing.T, s emailflow.Store) *emailflow.Agent {
				putAgents(t, s, agent("ann", "sales"))
				as := agents(t, s, "sales")
				require.Len(t, as, 1)
				return as[0]
			}},
		}
		for _, src := range sources {
			t.Run(src.name, func(t *testing.T) {
				s := fresh(t, newStore)
				a := src.get(t, s)
				want := a.Clone()
				mutate(a)
				same(t, want, getAgent(t, s, "ann"))
				assert.Equal(t, []string{"ann"}, agentIDs(agents(t, s, "sales")))
			})
		}
	})
}
