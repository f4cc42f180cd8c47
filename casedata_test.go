package emailflow_test

import (
	"context"
	"net/mail"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

// TestReadOnlyCaseData: every key the system or the host declares
// read-only is present, flagged read-only, and refused to the owning agent
// with ErrForbidden, changing nothing; the host's editable key is editable.
func TestReadOnlyCaseData(t *testing.T) {
	ctx := context.Background()
	opts := func() *emailflow.Options {
		return &emailflow.Options{CaseData: []emailflow.CaseField{
			{Key: "Account", Value: "ACME-7", ReadOnly: true},
			{Key: "Order", Value: ""},
		}}
	}
	// An automated email (an out-of-office answer) gets the Automated key too.
	autoReply := []byte("From: Hélène Dupré <helene.dupre@exemple.fr>\r\nTo: support@boutique.example\r\n" +
		"Subject: Absence du bureau\r\nMessage-ID: <ooo-1@exemple.fr>\r\nAuto-Submitted: auto-replied\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nJe suis absente jusqu'au 3 décembre.\r\n")
	inbound := func(t *testing.T, f *fixture) string {
		id := f.ingest(t, autoReply)
		_, err := f.ws.As("alice").Accept(ctx, id)
		require.NoError(t, err)
		return id
	}
	duringACall := func(t *testing.T, f *fixture) string {
		o, err := f.ws.As("alice").NewEmail(ctx, emailflow.NewEmailRequest{
			To: []mail.Address{{Address: "helene.dupre@exemple.fr"}}, VoiceInteractionID: "voice-77", Subject: "Suite à notre appel",
		})

		require.NoError(t, err)
		return o.ID
	}
	tests := []struct {
		key   string
		setup func(t *testing.T, f *fixture) string
		value string
	}{
		{emailflow.CaseSubject, inbound, "Absence du bureau"},
		{emailflow.CaseFrom, inbound, "Hélène Dupré <helene.dupre@exemple.fr>"},
		{emailflow.CaseMailbox, inbound, support},
		{emailflow.CaseReceived, inbound, "2026-11-26T09:00:00Z"},
		{"Automated", inbound, "auto-reply"},
		{"Account", inbound, "ACME-7"},
		{emailflow.CaseVoiceInteraction, duringACall, "voice-77"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			f := newFixture(t, opts())
			f.agent(t, "alice")
			id := tt.setup(t, f)
			data, err := f.ws.As(admin).CaseData(ctx, id)
			require.NoError(t, err)
			fd, ok := data.Field(tt.key)
			require.True(t, ok, "%s is in the case data", tt.key)
			assert.Equal(t, interaction.Field{Key: tt.key, Value: tt.value, ReadOnly: true}, fd)

			before := snapshot(t, f, id)
			err = f.ws.As("alice").SetCaseData(ctx, id, tt.key, "changed")
			require.ErrorIs(t, err, emailflow.ErrForbidden)
			assert.Contains(t, err.Error(), "read-only")
			assert.Equal(t, before, snapshot(t, f, id), "a refused edit changes nothing")

			// The owner may edit the keys that are not read-only.
			require.NoError(t, f.ws.As("alice").SetCaseData(ctx, id, "Order", "FR-2291"))
			data, err = f.ws.As(admin).CaseData(ctx, id)
			require.NoError(t, err)
			v, _ := data.Get("Order")
			assert.Equal(t, "FR-2291", v)
			fd, _ = data.Field(tt.key)
			assert.Equal(t, tt.value, fd.Value)
		})
	}
}
