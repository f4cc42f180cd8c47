package postgres_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/postgres"
)

// TestOutboxUpdateKeepsTheMessage: an update of an outbox item this
// transaction holds (a lease, an outcome) leaves out the raw message when
// it is the one the row has, so the bytes are not sent, compressed and
// stored again; a changed message is written. Either way the item reads
// back with the message it should have.
func TestOutboxUpdateKeepsTheMessage(t *testing.T) {
	ctx := context.WithValue(t.Context(), counting{}, true)
	c := &tripCounter{}
	cfg, err := pgxpool.ParseConfig(dsn())
	require.NoError(t, err)
	cfg.ConnConfig.Tracer = c
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s, err := postgres.New(ctx, pool, &postgres.Options{Schema: freshSchema(t)})
	require.NoError(t, err)

	first := []byte(strings.Repeat("Subject: Votre commande\r\n\r\nMerci.\r\n", 100))
	second := []byte("Subject: Votre commande (corrigée)\r\n\r\nMerci.\r\n")
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	item := func(id string) *emailflow.OutboxItem {
		return &emailflow.OutboxItem{ID: id, InteractionID: "o-" + id, MessageID: "<" + id + "@boutique.example>",
			From: "support@boutique.example", To: []string{"helene@example.fr"}, Raw: bytes.Clone(first),
			State: emailflow.OutboxPending, NextAttempt: at, CreatedAt: at, UpdatedAt: at}
	}
	tests := []struct {
		name       string
		change     func(o *emailflow.OutboxItem)
		enqueued   bool // updated in the transaction that queued it
		wantRaw    []byte
		rawWritten bool
	}{
		{"lease, message as stored", func(o *emailflow.OutboxItem) { o.Attempts++ }, false, first, false},
		{"outcome, message as stored", func(o *emailflow.OutboxItem) { o.State = emailflow.OutboxDelivered }, false, first, false},
		{"message changed", func(o *emailflow.OutboxItem) { o.Raw = second }, false, second, true},
		{"message dropped", func(o *emailflow.OutboxItem) { o.Raw = nil }, false, nil, true},
		{"queued and leased at once", func(o *emailflow.OutboxItem) { o.Attempts++ }, true, first, false},
		{"queued and changed at once", func(o *emailflow.OutboxItem) { o.Raw = second }, true, second, true},
		{"message changed in place", func(o *emailflow.OutboxItem) { o.Raw[0] = 's' }, false, append([]byte{'s'}, first[1:]...), true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := "out" + string(rune('a'+i))
			if !tc.enqueued {
				require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error { return tx.Enqueue(ctx, item(id)) }))
			}
			c.mu.Lock()
			c.on, c.log = true, nil
			c.mu.Unlock()
			require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
				o := item(id)
				if tc.enqueued {
					if err := tx.Enqueue(ctx, o); err != nil {
						return err
					}
				} else if o, err = tx.OutboxItem(ctx, id); err != nil {
					return err
				}
				tc.change(o)
				return tx.UpdateOutbox(ctx, o)
			}))
			c.mu.Lock()
			log := strings.Join(c.log, "\n")
			c.on = false
			c.mu.Unlock()
			var update string
			for _, l := range strings.Split(log, "\n") {
				if strings.Contains(l, "UPDATE") && strings.Contains(l, "outbox SET") {
					update = l
				}
			}
			require.NotEmpty(t, update, "the update was sent")
			assert.Equal(t, tc.rawWritten, strings.Contains(update, "raw ="), update)

			require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
				o, err := tx.OutboxItem(ctx, id)
				require.NoError(t, err)
				assert.Equal(t, tc.wantRaw, o.Raw)
				want := item(id)
				tc.change(want)
				assert.Equal(t, want.State, o.State)
				assert.Equal(t, want.Attempts, o.Attempts)
				return nil
			}))
		})
	}
}
