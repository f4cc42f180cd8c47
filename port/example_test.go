package port_test

import (
	"errors"
	"fmt"
	"net/mail"

	"github.com/emailflow/emailflow/port"
)

// A record handed out by a Tx is the caller's own: a clone can be changed
// without touching what the store keeps.
func ExampleEmail_Clone() {
	stored := &port.Email{ID: "e1", To: []mail.Address{{Address: "lea@client.example"}}}
	c := stored.Clone()
	c.To[0].Address = "other@client.example"
	fmt.Println(stored.To[0].Address)
	// Output: lea@client.example
}

// A stale write is a conflict: callers match either error.
func ExampleErrStaleVersion() {
	err := fmt.Errorf("update i1: %w", port.ErrStaleVersion)
	fmt.Println(errors.Is(err, port.ErrConflict), errors.Is(err, port.ErrStaleVersion))
	// Output: true true
}
