package postgres_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/postgres"
)

// Large values are streamed to the server with COPY: what is stored is
// the value, each body once under its SHA-256 as for small ones, and no
// upload outlives its transaction (committed or rolled back).
func TestLargeValuesUploaded(t *testing.T) {
	ctx := t.Context()
	schema := freshSchema(t)
	s, err := postgres.New(ctx, sharedPool(t), &postgres.Options{Schema: schema})
	require.NoError(t, err)
	body := bytes.Repeat([]byte("%PDF\x00\xff"), 700_000) // 4.2 MB
	raw := bytes.Repeat([]byte("Subject: scans\r\n"), 200_000)
	put := func(id string) *emailflow.Email {
		return &emailflow.Email{ID: id, InteractionID: "it-" + id, Direction: emailflow.Inbound, Raw: raw,
			Attachments: []emailflow.Attachment{{ID: "a", Filename: "scan.pdf", Size: int64(len(body)), Data: body}, {ID: "b", Filename: "again.pdf", Size: int64(len(body)), Data: body}}}
	}
	require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error { return tx.PutEmail(ctx, put("e1")) }))
	require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error { return tx.PutEmail(ctx, put("e2")) }))
	failed := s.Update(ctx, func(tx emailflow.Tx) error {
		e := put("e3")
		e.Attachments[0].Data = bytes.Repeat([]byte("x"), 3<<20)
		if err := tx.PutEmail(ctx, e); err != nil {
			return err
		}
		return context.Canceled // rolled back after the upload
	})
	require.ErrorIs(t, failed, context.Canceled)

	conn, err := sharedPool(t).Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	q := func(sql string) string {
		return "SELECT count(*) FROM " + pgx.Identifier{schema}.Sanitize() + "." + sql
	}
	var uploads, blobs, stored int
	require.NoError(t, conn.QueryRow(ctx, q("uploads")).Scan(&uploads))
	require.NoError(t, conn.QueryRow(ctx, q("blobs")).Scan(&blobs))
	key := sha256.Sum256(body)
	require.NoError(t, conn.QueryRow(ctx, q("blobs WHERE hash = $1 AND body = $2"), key[:], body).Scan(&stored))
	assert.Zero(t, uploads, "no upload left")
	assert.Equal(t, 1, blobs, "the body once, the rolled-back one not at all")
	assert.Equal(t, 1, stored, "under its SHA-256")
	require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
		for _, id := range []string{"e1", "e2"} {
			e, err := tx.Email(ctx, id)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(raw, e.Raw), "raw of %s", id)
			require.Len(t, e.Attachments, 2)
			for _, a := range e.Attachments {
				assert.True(t, bytes.Equal(body, a.Data), "body %s of %s", a.ID, id)
			}
		}
		_, err := tx.Email(ctx, "e3")
		assert.ErrorIs(t, err, emailflow.ErrNotFound)
		return nil
	}))
}
