package emailflow_test

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
)

// TestApproveRefusesAnyChangeBehindTheReview: exactly the reviewed version
// is sent. An email with an attachment is submitted and accepted by its
// reviewer; then a writer bypassing the Workspace changes the frozen
// email. Whatever it changed, text or attachment, Approve is refused with
// ErrConflict and nothing is sent; untouched, the approved email goes out
// with the reviewed attachment.
func TestApproveRefusesAnyChangeBehindTheReview(t *testing.T) {
	ctx := context.Background()
	pdf := []byte("%PDF-1.4 bon de commande FR-2291")
	// Same length, one byte changed: only the body's digest tells.
	forged := bytes.Clone(pdf)
	forged[len(forged)-1] = '3'
	tests := []struct {
		name   string
		tamper func(e *emailflow.Email) // nil: untouched
	}{
		{"untouched", nil},
		{"text", func(e *emailflow.Email) { e.Text = "tampered" }},
		{"subject", func(e *emailflow.Email) { e.Subject += "!" }},
		{"recipient added", func(e *emailflow.Email) { e.Bcc = append(e.Bcc, e.To[0]) }},
		{"attachment body, same size", func(e *emailflow.Email) { e.Attachments[0].Data = forged }},
		{"attachment filename", func(e *emailflow.Email) { e.Attachments[0].Filename = "facture.pdf" }},
		{"attachment content type", func(e *emailflow.Email) { e.Attachments[0].ContentType = "application/x-msdownload" }},
		{"attachment made inline", func(e *emailflow.Email) {
			e.Attachments[0].Inline, e.Attachments[0].ContentID = true, "bon@desk"
		}},
		{"attachment removed", func(e *emailflow.Email) { e.Attachments = nil }},
		{"attachment added", func(e *emailflow.Email) {
			e.Attachments = append(e.Attachments, emailflow.Attachment{ID: "extra", Filename: "x.exe",
				ContentType: "application/octet-stream", Size: 2, Data: []byte("MZ")})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, reviewAll())
			f.agent(t, "alice")
			f.reviewer(t, "rita")
			inbound := f.handled(t, "alice")
			r, err := f.ws.As("alice").Reply(ctx, inbound)
			require.NoError(t, err)
			setText(t, f, "alice", r.ID, "Voici votre bon de commande.")
			_, err = f.ws.As("alice").AddAttachment(ctx, r.ID, emailflow.NewAttachment{Filename: "bon.pdf", ContentType: "application/pdf", Body: bytes.NewReader(pdf)})
			require.NoError(t, err)
			o, err := f.ws.As("alice").Send(ctx, r.ID, nil)
			require.NoError(t, err)
			require.Equal(t, interaction.StateInReview, o.State)
			review := f.reviewOf(t, r.ID)
			_, err = f.ws.As("rita").Accept(ctx, review)
			require.NoError(t, err)

			if tt.tamper != nil {
				require.NoError(t, f.store.Update(ctx, func(tx emailflow.Tx) error {
					emails, err := tx.EmailsOf(ctx, r.ID)
					if err != nil {
						return err
					}
					e := emails[len(emails)-1]
					// Attachment bodies are shared, never changed in place.
					e.Attachments = slices.Clone(e.Attachments)
					tt.tamper(e)
					return tx.PutEmail(ctx, e)
				}))
				before := []string{snapshot(t, f, r.ID), snapshot(t, f, review)}
				_, err = f.ws.As("rita").Approve(ctx, review)
				assert.ErrorIs(t, err, emailflow.ErrConflict)
				assert.Empty(t, f.sender.Sent(), "nothing is sent")
				assert.Equal(t, before, []string{snapshot(t, f, r.ID), snapshot(t, f, review)}, "a refused approval changes nothing")
				return
			}

			_, err = f.ws.As("rita").Approve(ctx, review)
			require.NoError(t, err)
			require.Len(t, f.sender.Sent(), 1)
			m, err := compose.Parse(bytes.NewReader(f.sender.Sent()[0].Raw), nil)
			require.NoError(t, err)
			assert.Equal(t, "Voici votre bon de commande.", m.Text)
			require.Len(t, m.Attachments, 1)
			assert.Equal(t, "bon.pdf", m.Attachments[0].Filename)
			assert.Equal(t, "application/pdf", m.Attachments[0].ContentType)
			assert.Equal(t, pdf, m.Attachments[0].Data)
		})
	}
}
