package emailflow

import (
	"fmt"

	"github.com/emailflow/emailflow/interaction"
)

// Automated mail that joins a conversation (an out-of-office answer to
// our reply, a vacation notice, an auto-responder's receipt) is kept on
// the conversation as automatic: the email carries its class (Email.Auto),
// the history an "automatic" entry, and the owner an EventAutoReply. It
// is not the customer's answer: it reopens nothing, starts no interaction
// and is offered to nobody. Options.AutoRepliesAsMail takes such mail in
// as the customer's, as follow-ups.

// takeAutomatic stores automated mail on its conversation, in the ingest
// transaction.
func (w *Workspace) takeAutomatic(t *tx, in *intake, email *Email) (*interaction.Interaction, error) {
	it, err := t.Interaction(t.ctx, email.InteractionID)
	if err != nil {
		return nil, err
	}
	email.Automatic = true
	if err := t.PutEmail(t.ctx, email); err != nil {
		return nil, err
	}
	it.Record("system", "automatic", t.now, fmt.Sprintf("%s %s", in.msg.Auto, email.ID))
	recordWarnings(it, t.now, nil, in.warnings)
	if err := t.UpdateInteraction(t.ctx, it); err != nil {
		return nil, err
	}
	owner := it.Owner
	if owner == "" || owner == "system" {
		owner = it.LastAgent
	}
	return it, t.emit(EventAutoReply, it, owner, "system", email.ID)
}

// conversationOf returns the interaction automated mail joining thread
// goes to: the thread's open inbound, else its latest inbound, else the
// interaction its reference named (a conversation we started with a new
// email has no inbound).
func conversationOf(t *tx, thread, joined string) (*interaction.Interaction, error) {
	open, err := openInbound(t, thread)
	if err != nil || open != nil {
		return open, err
	}
	found, err := t.FindInteractions(t.ctx, Query{Kind: interaction.KindInbound, ThreadID: thread})
	if err != nil {
		return nil, err
	}
	var latest *interaction.Interaction
	for _, it := range found {
		if it.State == interaction.StateDeleted || it.State == interaction.StateQuarantined {
			continue
		}
		if latest == nil || it.CreatedAt.After(latest.CreatedAt) {
			latest = it
		}
	}
	if latest != nil {
		return latest, nil
	}
	return t.Interaction(t.ctx, joined)
}
