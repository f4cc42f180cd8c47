package emailflow_test

import (
	"bytes"
	"context"
	"net/mail"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
)

func TestEditDraftRecipientsBodiesAttachments(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	r, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)
	d, err := draftEmail(f.ws.As("alice").Draft(ctx, r.ID))
	require.NoError(t, err)

	content := emailflow.DraftContent{
		To:      d.To,
		Cc:      []mail.Address{{Name: "Marc Dupré", Address: "marc.dupre@exemple.fr"}},
		Bcc:     []mail.Address{{Address: "archive@boutique.example"}},
		Subject: "Re: Votre commande FR-2291 🎁",
		Text:    "Bonjour,\n\nVoici votre bon de retour.",
		HTML:    "<p>Bonjour,</p><p>Voici votre <b>bon de retour</b>.</p>",
	}
	require.NoError(t, errOf(f.ws.As("alice").ReplaceDraft(ctx, r.ID, content)))
	// content is still the host's: changing it now changes nothing stored.
	content.Cc[0].Address, content.Bcc[0].Name = "mallory@evil.example", "Mallory"
	stored, err := draftEmail(f.ws.As("alice").Draft(ctx, r.ID))
	require.NoError(t, err)
	assert.Equal(t, []mail.Address{{Name: "Marc Dupré", Address: "marc.dupre@exemple.fr"}}, stored.Cc)
	assert.Equal(t, []mail.Address{{Address: "archive@boutique.example"}}, stored.Bcc)
	keep, err := f.ws.As("alice").AddAttachment(ctx, r.ID, emailflow.NewAttachment{Filename: "bon-retour.pdf", ContentType: "application/pdf", Body: strings.NewReader("%PDF-1.7 retour")})
	require.NoError(t, err)
	drop, err := f.ws.As("alice").AddAttachment(ctx, r.ID, emailflow.NewAttachment{Filename: "mauvais.txt", ContentType: "", Body: strings.NewReader("oops")})
	require.NoError(t, err)
	require.NoError(t, errOf(f.ws.As("alice").EditDraft(ctx, r.ID, emailflow.DraftPatch{RemoveAttachments: []string{drop.ID}})))
	assert.ErrorIs(t, errOf(f.ws.As("alice").EditDraft(ctx, r.ID, emailflow.DraftPatch{RemoveAttachments: []string{drop.ID}})), emailflow.ErrNotFound)

	d, err = draftEmail(f.ws.As("alice").Draft(ctx, r.ID))
	require.NoError(t, err)
	require.Len(t, d.Attachments, 1)
	assert.Equal(t, keep, d.Attachments[0], "AddAttachment returns the attachment as stored")
	assert.Equal(t, content.Subject, d.Subject)

	_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
	require.NoError(t, err)
	sent := f.sender.Sent()
	require.Len(t, sent, 1)
	assert.ElementsMatch(t, []string{"helene.dupre@exemple.fr", "marc.dupre@exemple.fr", "archive@boutique.example"}, sent[0].To, "Bcc is in the envelope")
	assert.NotContains(t, string(sent[0].Raw), "archive@boutique.example", "but not in the headers")

	msg, err := compose.Parse(bytes.NewReader(sent[0].Raw), nil)
	require.NoError(t, err)
	assert.Equal(t, content.Subject, msg.Subject)
	assert.Equal(t, []mail.Address{{Name: "Marc Dupré", Address: "marc.dupre@exemple.fr"}}, msg.Cc)
	assert.Equal(t, "Bonjour,\n\nVoici votre bon de retour.", strings.TrimSpace(strings.ReplaceAll(msg.Text, "\r\n", "\n")))
	assert.Contains(t, msg.HTML, "<b>bon de retour</b>")
	require.Len(t, msg.Attachments, 1)
	assert.Equal(t, "bon-retour.pdf", msg.Attachments[0].Filename)
	assert.Equal(t, []byte("%PDF-1.7 retour"), msg.Attachments[0].Data)
}

func TestAttachmentLimits(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{Parse: &compose.ParseOptions{MaxSize: 1 << 20, MaxAttachments: 2}})
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	r, err := f.ws.As("alice").Reply(ctx, id)
	require.NoError(t, err)
	_, err = f.ws.As("alice").AddAttachment(ctx, r.ID, emailflow.NewAttachment{Filename: "big.bin", ContentType: "", Body: bytes.NewReader(make([]byte, 1<<20+1))})
	assert.ErrorIs(t, err, emailflow.ErrTooLarge)
	for i := 0; i < 2; i++ {
		_, err = f.ws.As("alice").AddAttachment(ctx, r.ID, emailflow.NewAttachment{Filename: "f.txt", ContentType: "text/plain", Body: strings.NewReader("x")})
		require.NoError(t, err)
	}
	_, err = f.ws.As("alice").AddAttachment(ctx, r.ID, emailflow.NewAttachment{Filename: "f.txt", ContentType: "text/plain", Body: strings.NewReader("x")})
	assert.ErrorIs(t, err, emailflow.ErrTooLarge)
	_, err = f.ws.As("alice").AddAttachment(ctx, r.ID, emailflow.NewAttachment{Filename: "a\r\nb.txt", ContentType: "text/plain", Body: strings.NewReader("x")})
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput)
	d, err := draftEmail(f.ws.As("alice").Draft(ctx, r.ID))
	require.NoError(t, err)
	assert.Len(t, d.Attachments, 2)
}
