package memory_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	transport "github.com/emailflow/emailflow/transport/memory"
)

// Every call is an attempt, in order, with its outcome; only deliveries
// are Sent; the recorded bytes are the Sender's own copy.
func TestSenderRecordsAttempts(t *testing.T) {
	var s transport.Sender
	ctx := context.Background()
	msg := []byte("Subject: 1\r\n\r\nx\r\n")
	to := []string{"jo@example.org"}
	require.NoError(t, s.Send(ctx, "a@shop.example", to, msg))
	busy := errors.New("421 busy")
	s.Fail(busy)
	assert.ErrorIs(t, s.Send(ctx, "a@shop.example", to, []byte("Subject: 2\r\n\r\nx\r\n")), busy)
	s.Fail(nil)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, s.Send(cancelled, "a@shop.example", to, []byte("Subject: 3\r\n\r\nx\r\n")), context.Canceled)
	msg[9], to[0] = '9', "changed@example.org" // the caller reuses its buffers

	attempts := s.Attempts()
	require.Len(t, attempts, 3)
	for i, want := range []error{nil, busy, context.Canceled} {
		assert.ErrorIs(t, attempts[i].Err, want, "attempt %d", i)
		if want == nil {
			assert.NoError(t, attempts[i].Err)
		}
		assert.Equal(t, []string{"jo@example.org"}, attempts[i].To)
	}
	assert.Equal(t, "Subject: 1\r\n\r\nx\r\n", string(attempts[0].Raw))
	assert.Equal(t, "Subject: 2\r\n\r\nx\r\n", string(attempts[1].Raw))
	sent := s.Sent()
	require.Len(t, sent, 1)
	assert.Equal(t, attempts[0].Delivery, sent[0])

	s.Reset()
	assert.Empty(t, s.Attempts())
	assert.Empty(t, s.Sent())
}
