package emailflow_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
)

// Call dials the contact's own numbers; any other only with the dial-any
// privilege.
func TestCallDialsOnlyTheContactsNumbers(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name    string
		dialAny bool
	}{{"agent", false}, {"agent who may dial any number", true}} {
		t.Run(tt.name, func(t *testing.T) {
			var privileges map[emailflow.Role][]emailflow.Privilege
			if tt.dialAny {
				privileges = map[emailflow.Role][]emailflow.Privilege{
					emailflow.RoleAgent: append(emailflow.DefaultPrivileges[emailflow.RoleAgent], emailflow.PrivilegeDialAny),
				}
			}
			d := &dialer{}
			f := newFixture(t, &emailflow.Options{Privileges: privileges})
			ws, err := emailflow.New(emailflow.Ports{Store: f.store, Sender: f.sender, Clock: f.clock, Dialer: d}, &emailflow.Options{Privileges: privileges})
			require.NoError(t, err)
			f.agent(t, "alice")
			id := f.handled(t, "alice")
			it, err := ws.As("alice").Interaction(ctx, id)
			require.NoError(t, err)
			c, err := ws.Contact(ctx, it.ContactID)
			require.NoError(t, err)
			c.Phones = []string{"+33 6 12 34 56 78", "+33 1 40 00 00 00"}
			_, err = ws.PutContact(ctx, c)
			require.NoError(t, err)

			_, err = ws.As("alice").Call(ctx, id, "+33140000000")
			require.NoError(t, err, "her second number, written otherwise")
			_, err = ws.As("alice").Call(ctx, id, "")
			require.NoError(t, err, "her primary number")
			_, err = ws.As("alice").Call(ctx, id, "+1 900 555 0100")
			if tt.dialAny {
				require.NoError(t, err)
				assert.Equal(t, "alice +1 900 555 0100 "+id, d.calls[2])
				return
			}
			assert.ErrorIs(t, err, emailflow.ErrForbidden, "a number the contact does not have")
			assert.Len(t, d.calls, 2, "nothing dialed")
			it, err = ws.As("alice").Interaction(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, "+33 6 12 34 56 78 call-1", it.History[len(it.History)-1].Detail, "no call recorded")
		})
	}
}
