package emailflow_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

const support = "support@boutique.example"

// admin is the host's administrator every fixture has: tests read what
// happened as the admin, who sees every interaction.
const admin = "admin"

type fixture struct {
	ws     *emailflow.Workspace
	store  *memory.Store
	sender *transport.Sender
	clock  *clockwork.FakeClock
}

func newFixture(t testing.TB, opts *emailflow.Options) *fixture {
	t.Helper()
	f := &fixture{store: memory.New(nil), sender: &transport.Sender{}, clock: clockwork.NewFakeClockAt(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))}
	if opts == nil {
		opts = &emailflow.Options{}
	}
	if opts.Hostname == "" {
		opts.Hostname = "desk.boutique.example"
	}
	if opts.Mailboxes == nil {
		opts.Mailboxes = []emailflow.Mailbox{{Address: support, Name: "Service Client", Queue: "support-fr"}}
	}
	ws, err := emailflow.New(emailflow.Ports{Store: f.store, Sender: f.sender, Clock: f.clock}, opts)
	require.NoError(t, err)
	f.ws = ws
	require.NoError(t, ws.PutAgent(context.Background(), emailflow.Agent{ID: admin, Roles: []emailflow.Role{emailflow.RoleAdmin}}))
	return f
}

// agent registers an agent serving support-fr and sets them ready.
func (f *fixture) agent(t testing.TB, id string, roles ...emailflow.Role) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, f.ws.PutAgent(ctx, emailflow.Agent{ID: id, Name: strings.ToUpper(id[:1]) + id[1:], Address: id + "@boutique.example", Queues: []string{"support-fr"}, Capacity: 5, Roles: roles}))
	require.NoError(t, f.ws.As(id).SetStatus(ctx, emailflow.StatusReady))
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return b
}

func (f *fixture) ingest(t testing.TB, raw []byte) string {
	t.Helper()
	it, err := f.ws.Ingest(context.Background(), support, bytes.NewReader(raw))
	require.NoError(t, err)
	return it.ID
}

// handled ingests the French email and has agent accept it.
func (f *fixture) handled(t testing.TB, agent string) string {
	t.Helper()
	id := f.ingest(t, readFile(t, "testdata/french-order.eml"))
	_, err := f.ws.As(agent).Accept(context.Background(), id)
	require.NoError(t, err)
	return id
}

// errOf is the error of a call that also returns a value the check does
// not need.
func errOf[T any](_ T, err error) error { return err }

// draftEmail is the email of a draft a call returned.
func draftEmail(d *emailflow.Draft, err error) (*emailflow.Email, error) {
	if err != nil {
		return nil, err
	}
	return d.Email, nil
}

// interactionOf is the outbound interaction of a draft or a sent email a
// call returned.
func interactionOf[T interface {
	*emailflow.Draft | *emailflow.Sent
}](v T, err error) (*interaction.Interaction, error) {
	if err != nil {
		return nil, err
	}
	switch v := any(v).(type) {
	case *emailflow.Draft:
		return v.Interaction, nil
	case *emailflow.Sent:
		return v.Interaction, nil
	}
	return nil, nil
}
