package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

// TestOnlyDeliveryOutcomesCommitAsynchronously: of a lifecycle's
// transactions, only the one recording a delivery's outcome commits
// without waiting for the disk (its loss in a crash sends the message
// again, with the same Message-ID, as a crash just before it would);
// intake, accept, the draft and the send itself commit durably. The
// outcome is seen at once, by this instance and by another.
func TestOnlyDeliveryOutcomesCommitAsynchronously(t *testing.T) {
	c := &tripCounter{}
	ws := tracedWorkspace(t, c)
	ctx := context.WithValue(t.Context(), counting{}, true)
	raw := benchOrder(t)
	const async = "SET LOCAL synchronous_commit TO OFF"
	names := []string{"Ingest", "Accept", "Reply", "Send"}
	steps := lifecycleSteps(ctx, ws, benchMail(raw, 7))
	for i, step := range steps {
		c.mu.Lock()
		c.on, c.log = true, nil
		c.mu.Unlock()
		require.NoError(t, step(), names[i])
		c.mu.Lock()
		log := c.log
		c.on = false
		c.mu.Unlock()
		var at []int
		commits := 0
		for j, s := range log {
			s = strings.TrimSpace(s)
			if s == async {
				at = append(at, j)
			}
			if s == "COMMIT" {
				commits++
			}
		}
		if names[i] != "Send" {
			assert.Empty(t, at, "%s commits durably", names[i])
			continue
		}
		require.Equal(t, 2, commits, "Send: the send, then the outcome of its delivery")
		require.Len(t, at, 1, "Send: one transaction commits asynchronously")
		first := slicesIndex(log, "COMMIT")
		assert.Greater(t, at[0], first, "the send itself commits durably")
		outcome := strings.Join(log[at[0]:], "\n")
		assert.Contains(t, outcome, "outbox SET state", "the asynchronous one records the outcome")
	}

	// The outcome is committed: a later transaction reads the outbound
	// as sent.
	out, err := ws.As("alice").Interactions(t.Context(), emailflow.Query{Kind: interaction.KindOutbound})
	require.NoError(t, err)
	if len(out) == 0 {
		out, err = ws.As("bob").Interactions(t.Context(), emailflow.Query{Kind: interaction.KindOutbound})
		require.NoError(t, err)
	}
	require.Len(t, out, 1)
	assert.Equal(t, interaction.StateSent, out[0].State)
}

// slicesIndex is the index of the first entry of log that is s once
// trimmed, or -1.
func slicesIndex(log []string, s string) int {
	for i, l := range log {
		if strings.TrimSpace(l) == s {
			return i
		}
	}
	return -1
}
