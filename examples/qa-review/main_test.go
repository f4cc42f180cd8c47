package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/qa"
)

// TestRun runs the walk-through end to end (a refused step ends it with
// log.Fatal) and checks what each party would see: the author got the
// rejection with its remarks, the rounds record both decisions, and the
// customer got exactly one message, the version the reviewer approved.
func TestRun(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	d := run(&out)

	const remarks = "Donne le numéro de suivi et la date de livraison prévue."
	const approved = "Bonjour Hélène,\n\nVotre colis (suivi 6A12345) sera livré jeudi 27 novembre.\n\nCamille Laurent\nService Client"

	// The customer received one message: the approved version, with the
	// reviewer's edit, answering their email.
	sent := d.sender.Sent()
	require.Len(t, sent, 1)
	assert.Equal(t, []string{"helene.dupre@exemple.fr"}, sent[0].To)
	msg, err := compose.Parse(bytes.NewReader(sent[0].Raw), nil)
	require.NoError(t, err)
	assert.Equal(t, "Re: Commande FR-2291 : colis non reçu", msg.Subject)
	assert.Equal(t, []string{"CAF3x9-helene-2291@mail.exemple.fr"}, msg.InReplyTo)
	assert.Equal(t, approved, strings.TrimSpace(strings.ReplaceAll(msg.Text, "\r\n", "\n")))
	assert.NotContains(t, msg.Text, "arrive bientôt", "not the rejected version")

	// Two rounds: the first rejected with its reason and remarks, the
	// second approved after one reviewer edit, whose content is the one
	// the approval froze.
	rounds, err := d.ws.As("camille").Rounds(ctx, d.reply)
	require.NoError(t, err)
	require.Len(t, rounds, 2)
	r1, r2 := rounds[0], rounds[1]
	assert.Equal(t, 1, r1.Number)
	assert.Equal(t, "camille", r1.Author)
	assert.Equal(t, qa.Rejected, r1.Decision)
	assert.Equal(t, "rita", r1.Reviewer)
	assert.Equal(t, "exactitude", r1.Reason)
	assert.Equal(t, remarks, r1.Remarks)
	assert.Equal(t, 12*time.Minute, r1.DecidedAt.Sub(r1.SubmittedAt))
	assert.Empty(t, r1.Edits)
	assert.Equal(t, r1.SubmittedHash, r1.Hash)

	assert.Equal(t, 2, r2.Number)
	assert.Equal(t, "camille", r2.Author)
	assert.Equal(t, qa.Approved, r2.Decision)
	assert.Equal(t, "rita", r2.Reviewer)
	assert.Empty(t, r2.Reason)
	assert.Equal(t, 5*time.Minute, r2.DecidedAt.Sub(r2.SubmittedAt))
	require.Len(t, r2.Edits, 1)
	edit := r2.Edits[0]
	assert.Equal(t, "rita", edit.By)
	assert.Equal(t, "Bonjour Hélène,\n\nVotre colis (suivi 6A12345) sera livré jeudi 27 novembre.\n\nCamille", edit.Before.Text)
	assert.Equal(t, approved, edit.After.Text)
	assert.Equal(t, qa.Hash(edit.Before), r2.SubmittedHash)
	assert.Equal(t, qa.Hash(edit.After), r2.Hash, "approved as edited")
	assert.NotEqual(t, r1.Hash, r2.Hash)

	// The rejection went back to its author, visibly: the reply moved to
	// rejected with the reason, and the remarks are a note from the
	// reviewer; the customer's interaction showed the QA status.
	reply, err := d.ws.As("camille").Interaction(ctx, d.reply)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateSent, reply.State)
	assert.Equal(t, "camille", reply.Owner)
	var rejections []interaction.Entry
	for _, e := range reply.History {
		if e.Action == string(interaction.EventReject) {
			rejections = append(rejections, e)
		}
	}
	require.Len(t, rejections, 1)
	assert.Equal(t, "rita", rejections[0].Actor)
	assert.Equal(t, interaction.StateInReview, rejections[0].From)
	assert.Equal(t, interaction.StateRejected, rejections[0].To)
	assert.Equal(t, "exactitude", rejections[0].Detail)
	require.NotEmpty(t, reply.Notes)
	assert.Equal(t, "rita", reply.Notes[0].Author)
	assert.Equal(t, "QA rejected (exactitude): "+remarks, reply.Notes[0].Text)

	inbound, err := d.ws.As("camille").Interaction(ctx, d.inbound)
	require.NoError(t, err)
	var statuses []string
	for _, e := range inbound.History {
		if e.Action == "qa-status" {
			statuses = append(statuses, e.Detail)
		}
	}
	assert.Equal(t, []string{qa.StatusInReview, qa.StatusRejected, qa.StatusInReview, qa.StatusApproved}, statuses)
	status, _ := inbound.CaseData.Get(emailflow.CaseQAStatus)
	assert.Equal(t, qa.StatusApproved, status)

	// What the walk-through printed says the same.
	for _, want := range []string{
		"camille sends her reply → in-review; messages sent so far: 0",
		"rita rejects: the reply is rejected, back with camille",
		"review: rejected by rita, reason exactitude: " + remarks,
		"QA status = rejected",
		"camille edits and sends again → in-review (round 2)",
		"rita approves → sent",
		"the customer received 1 message:",
		"round 1 by camille: rejected by rita after 12m0s (exactitude: " + remarks + ")",
		"round 2 by camille: approved by rita after 5m0s, 1 reviewer edit(s)",
	} {
		assert.Contains(t, out.String(), want)
	}
}
