package imap_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	eimap "github.com/emailflow/emailflow/transport/imap"
)

// shortLiteral announces size bytes but holds fewer, then fails with end:
// a connection broken in the middle of a message.
type shortLiteral struct {
	r    io.Reader
	size int64
	end  error
}

func (l *shortLiteral) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err == io.EOF {
		err = l.end
	}
	return n, err
}

func (l *shortLiteral) Size() int64 { return l.size }

// TestLiteralCutShort: a message whose bytes stop before its announced
// size is an error for Ingest, never a shorter message stored as whole.
func TestLiteralCutShort(t *testing.T) {
	raw := message(1)
	for _, end := range []error{io.EOF, io.ErrUnexpectedEOF} {
		t.Run(end.Error(), func(t *testing.T) {
			d := newDesk(t)
			lit := &shortLiteral{r: bytes.NewReader(raw[:len(raw)/2]), size: int64(len(raw)), end: end}
			_, err := d.ws.Ingest(context.Background(), deliver, eimap.NewLiteral(lit))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "cut short")
			count, _ := d.taken(t)
			assert.Empty(t, count, "nothing stored")
		})
	}
	t.Run("Whole", func(t *testing.T) {
		d := newDesk(t)
		lit := eimap.NewLiteral(bytes.NewReader(raw))
		assert.Equal(t, len(raw), lit.Len())
		it, err := d.ws.Ingest(context.Background(), deliver, lit)
		require.NoError(t, err)
		emails, err := d.ws.As(admin).Emails(context.Background(), it.ID)
		require.NoError(t, err)
		assert.Equal(t, raw, emails[0].Raw)
		assert.Zero(t, lit.Len())
	})
	t.Run("Nil", func(t *testing.T) {
		lit := eimap.NewLiteral(nil)
		assert.Zero(t, lit.Len())
		n, err := lit.Read(make([]byte, 8))
		assert.Zero(t, n)
		assert.Equal(t, io.EOF, err)
	})
}

func TestBackoff(t *testing.T) {
	next, reset := eimap.Backoff(time.Second, 10*time.Second)
	// Each wait lies between half and all of min·2ⁿ, capped at max.
	for _, ceil := range []time.Duration{1, 2, 4, 8, 10, 10, 10} {
		d := next()
		assert.GreaterOrEqual(t, d, ceil*time.Second/2)
		assert.LessOrEqual(t, d, ceil*time.Second)
	}
	for range 100 {
		d := next() // far past the doubling: no overflow
		assert.GreaterOrEqual(t, d, 5*time.Second)
		assert.LessOrEqual(t, d, 10*time.Second)
	}
	reset()
	d := next()
	assert.LessOrEqual(t, d, time.Second, "back to the start after a success")
	// Jitter: many Ingesters cut off together come back at different times.
	seen := map[time.Duration]bool{}
	for range 20 {
		reset()
		seen[next()] = true
	}
	assert.Greater(t, len(seen), 1)
}
