package postgres_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
)

// TestLargeValuesCompressedWithLZ4: on a server with lz4, an email's raw
// message and document and its interaction's document, once large enough
// to be compressed, are compressed with lz4 (migration 12), and read back
// whole.
func TestLargeValuesCompressedWithLZ4(t *testing.T) {
	ctx := t.Context()
	pool := sharedPool(t)
	var lz4 bool
	if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals))").Scan(&lz4); err != nil {
		t.Fatal(err)
	}
	if !lz4 {
		t.Skip("this PostgreSQL server was built without lz4: large values stay compressed with pglz")
	}
	store := freshStore(t)
	schema := store.Schema()
	ws, err := emailflow.New(emailflow.Ports{Store: store, Sender: &countSender{}}, benchOptions())
	require.NoError(t, err)
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "alice", Queues: []string{"support-fr"}, Capacity: 3}))
	require.NoError(t, ws.As("alice").SetStatus(ctx, emailflow.StatusReady))

	// A long, compressible body: the customer pasted a log.
	body := strings.Repeat("Commande 2291 : colis non reçu, suivi bloqué à Lyon depuis lundi.\n", 400)
	raw := bytes.Replace(benchMail(benchOrder(t), 1), []byte("Merci d'avance"), []byte(body+"Merci d'avance"), 1)
	require.Greater(t, len(raw), 20000)
	it, err := ws.Ingest(ctx, benchMailbox, bytes.NewReader(raw))
	require.NoError(t, err)

	var rawC, dataC string
	require.NoError(t, pool.QueryRow(ctx, "SELECT pg_column_compression(raw), pg_column_compression(data) FROM "+
		pgx.Identifier{schema, "emails"}.Sanitize()+" WHERE interaction_id = $1", it.ID).Scan(&rawC, &dataC))
	assert.Equal(t, "lz4", rawC, "the raw message")
	assert.Equal(t, "lz4", dataC, "the email's document")

	emails, err := ws.As(it.OfferedTo).Emails(ctx, it.ID)
	require.NoError(t, err)
	require.Len(t, emails, 1)
	assert.Equal(t, raw, emails[0].Raw, "the raw message read back whole")
	assert.Contains(t, emails[0].Text, "suivi bloqué à Lyon depuis lundi.")
}
