package storetest

import (
	"net/mail"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
)

// message returns an inbound email of interaction itID, with every field
// set, created minute minutes after base.
func message(id, itID, messageID string, minute int) *emailflow.Email {
	return &emailflow.Email{
		ID:            id,
		InteractionID: itID,
		Direction:     emailflow.Inbound,
		Mailbox:       "support@shop.example",
		MessageID:     messageID,
		InReplyTo:     []string{"prev@shop.example"},
		References:    []string{"first@shop.example", "prev@shop.example"},
		From:          mail.Address{Name: "Hélène Dupont", Address: "helene@exemple.fr"},
		To:            []mail.Address{{Name: "Support", Address: "support@shop.example"}},
		Cc:            []mail.Address{{Address: "paul@exemple.fr"}},
		Bcc:           []mail.Address{{Address: "archive@exemple.fr"}},
		ReplyTo:       []mail.Address{{Address: "helene+reply@exemple.fr"}},
		Subject:       "Re: Où est ma commande ?",
		Date:          at(minute),
		Text:          "Bonjour, toujours rien reçu.",
		HTML:          "<p>Bonjour, toujours rien reçu.</p>",
		Attachments: []emailflow.Attachment{{
			ID: id + "-a1", Filename: "facture.pdf", ContentType: "application/pdf",
			Size: 4, Data: []byte("%PDF"),
		}, {
			ID: id + "-a2", Filename: "logo.png", ContentType: "image/png", ContentID: "logo@exemple.fr",
			Inline: true, Size: 3, Data: []byte("PNG"),
		}},
		Auto: "bounce",
		Report: &compose.Report{
			ReportingMTA: "mx.exemple.fr",
			Recipients: []compose.RecipientStatus{{
				Recipient: "helene@exemple.fr", OriginalRecipient: "Helene@exemple.fr", Action: compose.ActionFailed,
				Status: "5.1.1", Diagnostic: "550 5.1.1 <helene@exemple.fr>: boîte inconnue", RemoteMTA: "mx2.exemple.fr",
			}, {Recipient: "paul@exemple.fr", Action: compose.ActionDelayed, Status: "4.4.1"}},
			OriginalMessageID: "ef.t.x@shop.example", OriginalSubject: "Votre commande", Returned: compose.ReturnedHeaders,
		},
		BounceOf:  "ours-1",
		Automatic: true,
		Verdict:   &emailflow.Verdict{Action: emailflow.VerdictQuarantine, Reason: "spam (score 9.5)", Score: 9.5, Scored: true, Filter: "upstream"},
		Warnings:  []string{"unknown charset x-mac-roman"},
		Raw:       []byte("From: helene@exemple.fr\r\n\r\nBonjour\r\n"),
		Envelope:  &emailflow.Envelope{From: "bounces+helene@exemple.fr", To: []string{"support@shop.example", "Ventes@Shop.Example"}},
		CreatedAt: at(minute),
		UpdatedAt: at(minute),
	}
}

// outboxItem returns a pending outbox item due at minute.
func outboxItem(id string, minute int) *emailflow.OutboxItem {
	return &emailflow.OutboxItem{
		ID:            id,
		InteractionID: "out",
		EmailID:       id + "-mail",
		MessageID:     id + "@shop.example",
		From:          "support@shop.example",
		To:            []string{"helene@exemple.fr", "paul@exemple.fr"},
		Raw:           []byte("Message-ID: <" + id + "@shop.example>\r\n\r\nBonjour\r\n"),
		State:         emailflow.OutboxPending,
		NextAttempt:   at(minute),
		CreatedAt:     at(minute),
		UpdatedAt:     at(minute),
	}
}

// agent returns a ready agent serving queues.
func agent(id string, queues ...string) *emailflow.Agent {
	return &emailflow.Agent{
		ID:        id,
		Name:      "Agent " + id,
		Address:   id + "@shop.example",
		Status:    emailflow.StatusReady,
		Queues:    queues,
		Capacity:  2,
		Roles:     []emailflow.Role{emailflow.RoleAgent, emailflow.RoleReviewer},
		Skills:    map[string]int{"billing": 3, "complaints": 5},
		Languages: []string{"fr", "en"},
		Groups:    []string{"team-" + id},
		IdleSince: at(-30),
		UpdatedAt: at(-30),
	}
}

// event returns an event about interaction itID.
func event(typ emailflow.EventType, itID string, minute int) *emailflow.Event {
	return &emailflow.Event{
		Type:          typ,
		InteractionID: itID,
		Agent:         "ann",
		Actor:         "system",
		State:         interaction.StateOffered,
		At:            at(minute),
		Detail:        string(typ) + " " + itID,
	}
}
