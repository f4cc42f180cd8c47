package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Large values are streamed, not sent as parameters. pgx encodes a
// statement's parameters into a buffer of their own and then into its
// write buffer, whole, and a batch's statements together, letting both
// go after each use: a 40 MB message with a 30 MB attachment cost the
// client about four times its size at once, and as much garbage for the
// collector. A value above uploadSize goes instead with COPY (binary) to
// the table uploads, within the writing transaction, read from the
// value's own bytes through a 64 KiB buffer; the statement that stores
// the value takes it from there, and a statement after it deletes it, in
// the same round trip, before the commit, so no other transaction sees
// it.

// uploadSize is the largest value sent as a parameter.
const uploadSize = 256 << 10

// staged is how PutEmail sends an email's bytes.
type staged struct {
	// raw is the raw message as a parameter, or, when uploaded, the
	// token of its upload.
	raw      any
	uploaded bool
	// large are the large bodies to store from their uploads, by key.
	large []upload
	// keys and bodies are the small bodies, sent in one statement.
	keys, bodies [][]byte
	tokens       []int64 // the uploads to delete
}

// upload is a body uploaded under token.
type upload struct {
	key   []byte
	token int64
}

// stage uploads e's large values (the raw message, bodies above
// uploadSize that blobs does not hold yet) and returns how to store the
// rest. keys are bodies' keys (nil for a body not stored here).
func (t *txn) stage(ctx context.Context, raw []byte, bodies, keys [][]byte) (*staged, error) {
	st := &staged{raw: raw}
	var large [][]byte // the keys of large bodies, each once
	for i, k := range keys {
		switch {
		case k == nil:
		case len(bodies[i]) > uploadSize:
			if !slices.ContainsFunc(large, func(l []byte) bool { return bytes.Equal(l, k) }) {
				large = append(large, k)
			}
		default:
			st.keys, st.bodies = append(st.keys, k), append(st.bodies, bodies[i])
		}
	}
	if len(large) > 0 {
		held, err := t.heldBlobs(ctx, large)
		if err != nil {
			return nil, err
		}
		slices.SortFunc(large, bytes.Compare)
		for _, k := range large {
			if held[string(k)] {
				continue // stored before, and blobs are never deleted
			}
			i := slices.IndexFunc(keys, func(l []byte) bool { return bytes.Equal(l, k) })
			token, err := t.upload(ctx, bodies[i])
			if err != nil {
				return nil, err
			}
			st.large = append(st.large, upload{key: k, token: token})
			st.tokens = append(st.tokens, token)
		}
	}
	if len(raw) > uploadSize {
		token, err := t.upload(ctx, raw)
		if err != nil {
			return nil, err
		}
		st.raw, st.uploaded = token, true
		st.tokens = append(st.tokens, token)
	}
	return st, nil
}

// heldBlobs returns which of keys blobs holds.
func (t *txn) heldBlobs(ctx context.Context, keys [][]byte) (map[string]bool, error) {
	rows, err := t.tx.Query(ctx, t.s.sql(`SELECT hash FROM {s}.blobs WHERE hash = ANY($1)`), keys)
	if err != nil {
		return nil, mapErr("put email", err)
	}
	held := map[string]bool{}
	var h []byte
	_, err = pgx.ForEachRow(rows, []any{&h}, func() error {
		held[string(h)] = true
		return nil
	})
	if err != nil {
		return nil, mapErr("put email", err)
	}
	return held, nil
}

// upload streams v to uploads under a new token, in the transaction.
func (t *txn) upload(ctx context.Context, v []byte) (int64, error) {
	token := rand.Int64()
	if err := t.tx.copyFrom(ctx, t.s.sql(`COPY {s}.uploads (token, body) FROM STDIN (FORMAT binary)`), copyRow(token, v)); err != nil {
		return 0, mapErr("put email", err)
	}
	return token, nil
}

// copyRow returns COPY's binary format of one row (token, v), reading
// v where it is.
func copyRow(token int64, v []byte) io.Reader {
	head := make([]byte, 0, 11+4+4+2+4+8+4)
	head = append(head, "PGCOPY\n\xff\r\n\x00"...)
	head = binary.BigEndian.AppendUint32(head, 0) // flags
	head = binary.BigEndian.AppendUint32(head, 0) // no header extension
	head = binary.BigEndian.AppendUint16(head, 2) // fields
	head = binary.BigEndian.AppendUint32(head, 8)
	head = binary.BigEndian.AppendUint64(head, uint64(token))
	head = binary.BigEndian.AppendUint32(head, uint32(len(v)))
	trailer := []byte{0xff, 0xff} // -1: no more rows
	return io.MultiReader(bytes.NewReader(head), bytes.NewReader(v), bytes.NewReader(trailer))
}

// copyFrom runs a COPY FROM STDIN of r's data after the pending
// statements, BEGIN among them even alone (unlike flush): the copy
// belongs to the transaction.
func (p *pipe) copyFrom(ctx context.Context, sql string, r io.Reader) error {
	if len(p.pending) > 0 {
		br, err := p.send(ctx, &pgx.Batch{})
		if err != nil {
			return err
		}
		if err := br.Close(); err != nil {
			return err
		}
	}
	_, err := p.c.Conn().PgConn().CopyFrom(ctx, r, sql)
	return err
}

// uploaded is the SQL expression of the value uploaded under the token
// in parameter $n.
func uploaded(n int) string {
	return fmt.Sprintf("(SELECT body FROM {s}.uploads WHERE token = $%d)", n)
}

// rawSQL is the SQL of the raw message, parameter $n.
func (st *staged) rawSQL(n int) string {
	if st.uploaded {
		return uploaded(n)
	}
	return fmt.Sprintf("$%d", n)
}

// queueBodies queues the statements storing the bodies for the next
// round trip: the large ones first, then the small ones, each in the
// order of their keys, so that two transactions storing the same bodies
// lock them in one order (a body is large or small by its size, so by
// its key).
func (st *staged) queueBodies(s *Store, p *pipe) {
	for _, l := range st.large {
		p.later("put email", s.sql(`INSERT INTO {s}.blobs (hash, body) SELECT $1, `+uploaded(2)+`
			ON CONFLICT (hash) DO NOTHING`), l.key, l.token)
	}
	if len(st.keys) > 0 {
		p.later("put email", s.sql(`INSERT INTO {s}.blobs (hash, body)
			SELECT DISTINCT ON (h) h, b FROM unnest($1::bytea[], $2::bytea[]) AS u(h, b)
			ORDER BY h
			ON CONFLICT (hash) DO NOTHING`), st.keys, st.bodies)
	}
}

// queueCleanup queues the deletion of the uploads, if any, for the next
// round trip, after the statements that take them.
func (st *staged) queueCleanup(s *Store, p *pipe) {
	if len(st.tokens) > 0 {
		p.later("put email", s.sql(`DELETE FROM {s}.uploads WHERE token = ANY($1)`), st.tokens)
	}
}
