package emailflow_test

import (
	"net/mail"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/emailflow/emailflow"
)

// Allocation tests end in "Allocations": CI also runs them without the
// race detector (.ci/run), where sync.Pool keeps what it is given.

// TestEmailCloneAllocations: a copy of an email costs the struct and one
// backing array per element type (strings, addresses, attachments),
// however many fields and entries it has.
func TestEmailCloneAllocations(t *testing.T) {
	addrs := func(n int) []mail.Address {
		out := make([]mail.Address, n)
		for i := range out {
			out[i] = mail.Address{Name: "N", Address: "a@b.example"}
		}
		return out
	}
	full := &emailflow.Email{
		ID: "e", To: addrs(3), Cc: addrs(2), Bcc: addrs(1), ReplyTo: addrs(1),
		InReplyTo: []string{"x"}, References: []string{"x", "y", "z"}, Warnings: []string{"w"},
		Attachments: []emailflow.Attachment{{ID: "a"}, {ID: "b"}}, CreatedAt: time.Now(),
	}
	assert.Equal(t, 4.0, testing.AllocsPerRun(100, func() { _ = full.Clone() }))
	bare := &emailflow.Email{ID: "e", To: addrs(1)}
	assert.Equal(t, 2.0, testing.AllocsPerRun(100, func() { _ = bare.Clone() }), "the struct and the addresses")
}

// TestNewIDAllocations: an id costs its string only.
func TestNewIDAllocations(t *testing.T) {
	g := emailflow.NewIDGenerator()
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _ = g.NewID() }))
}
