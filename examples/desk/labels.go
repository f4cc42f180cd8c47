package main

import (
	"errors"
	"strings"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/label"
)

// The desk's words, French by default (the reference desk's), English on
// request: the SDK's labels (package label) for what the Workspace names,
// and the words of the pages here, so a language is one map and one
// catalogue.

// lang is a language the desk speaks.
type lang string

const (
	french  lang = "fr"
	english lang = "en"
)

// parseLang returns the language named s, French for anything else.
func parseLang(s string) lang {
	if s == string(english) {
		return english
	}
	return french
}

// labelsFor are the SDK's labels (states, events, review decisions,
// reject reasons) in each language; the desk's own words are below.
var labelsFor = map[lang]*label.Catalogue{french: label.French(), english: label.English()}

// catalogue holds the desk's own words in one language.
type catalogue map[string]string

var catalogues = map[lang]catalogue{
	french: {
		"desk":                  "Bureau email",
		"demo":                  "Démonstration : il n'y a pas de mot de passe, choisissez qui vous êtes. Les courriels ne quittent pas cette machine.",
		"login":                 "Se connecter",
		"login.as":              "Agent",
		"logout":                "Se déconnecter",
		"language":              "Langue",
		"inbox":                 "Boîte de réception",
		"offers":                "Interactions proposées",
		"owned":                 "Mes interactions",
		"workbins":              "Corbeilles",
		"workbin.in-progress":   "En cours",
		"workbin.drafts":        "Brouillons",
		"workbin.pending":       "En attente",
		"consults":              "Consultations",
		"reviews":               "Revues qualité",
		"quarantine":            "Quarantaine",
		"quarantine.intro":      "Courrier retenu par les filtres ou les listes d'expéditeurs : laissez passer ce qui est légitime, il sera distribué comme le reste.",
		"release":               "Laisser passer",
		"withdraw":              "Retirer de la revue",
		"queues":                "Files d'attente",
		"none":                  "Aucune",
		"accept":                "Accepter",
		"decline":               "Refuser",
		"open":                  "Ouvrir",
		"status":                "Statut",
		"status.ready":          "Prêt",
		"status.not-ready":      "Pas prêt",
		"status.not-responding": "Ne répond pas",
		"status.logged-out":     "Déconnecté",
		"reply":                 "Répondre",
		"replyall":              "Répondre à tous",
		"transfer":              "Transférer",
		"forward":               "Transférer pour aide",
		"consult":               "Consulter",
		"workbin":               "Enregistrer dans la corbeille",
		"resume":                "Reprendre",
		"done":                  "Marquer comme terminé",
		"delete":                "Supprimer",
		"from":                  "De",
		"to":                    "À",
		"cc":                    "Cc",
		"bcc":                   "Cci",
		"subject":               "Objet",
		"date":                  "Date",
		"attachments":           "Pièces jointes",
		"casedata":              "Données du dossier",
		"readonly":              "lecture seule",
		"key":                   "Clé",
		"value":                 "Valeur",
		"save":                  "Enregistrer",
		"notes":                 "Notes",
		"note.add":              "Ajouter la note",
		"disposition":           "Code de disposition",
		"disposition.set":       "Appliquer",
		"contact":               "Contact",
		"history":               "Historique du contact",
		"call":                  "Appeler",
		"call.placed":           "Appel lancé",
		"draft":                 "Brouillon",
		"text":                  "Texte",
		"html":                  "HTML",
		"attach":                "Joindre",
		"detach":                "Retirer",
		"responses":             "Réponses standard",
		"insert":                "Insérer",
		"send":                  "Envoyer",
		"send.review":           "Demander une revue",
		"discard":               "Abandonner",
		"remarks":               "Remarques",
		"reason":                "Motif",
		"approve":               "Approuver",
		"reject":                "Rejeter",
		"review":                "Revue",
		"review.edit":           "Corriger",
		"review.author":         "Auteur",
		"review.round":          "Tour",
		"review.queue":          "File de revue",
		"pull":                  "Prendre le suivant",
		"agent":                 "Agent",
		"queue":                 "File",
		"note":                  "Note",
		"instructions":          "Instructions",
		"asattachment":          "Joindre l'original en pièce jointe",
		"question":              "Question",
		"answer":                "Répondre à la consultation",
		"answers":               "Réponses des collègues",
		"colleagues":            "Collègues",
		"cancel":                "Annuler",
		"stats.waiting":         "En attente",
		"stats.offered":         "Proposées",
		"stats.oldest":          "Plus longue attente",
		"stats.target":          "Au-delà de l'objectif",
		"stats.available":       "Agents disponibles",
		"stats.quarantined":     "En quarantaine",
		"stats.bounced":         "Rejetées par le destinataire",
		"search":                "Rechercher",
		"directory":             "Annuaire",
		"newemail":              "Nouvel email à…",
		"newemail.call":         "Nouvel email pendant l'appel",
		"live":                  "Mises à jour en direct",
		"event":                 "Nouveauté",
		"customer.html":         "Contenu HTML du client (nettoyé, sans script)",
		"children":              "Emails de la conversation",
		"kind.inbound":          "Email entrant",
		"kind.outbound":         "Email sortant",
		"kind.consult":          "Consultation",
		"kind.review":           "Revue",
		"err.forbidden":         "Vous n'avez pas le droit de faire cela sur cette interaction.",
		"err.transition":        "Cette action n'est pas possible dans l'état où se trouve l'interaction.",
		"err.input":             "Ce qui a été saisi n'est pas accepté ; corrigez-le et réessayez.",
		"err.toolarge":          "C'est trop long ou trop volumineux ; raccourcissez ou allégez et réessayez.",
		"err.notfound":          "Cet élément n'existe pas ou plus.",
		"err.conflict":          "Quelqu'un d'autre vient de modifier cette interaction ; rechargez la page.",
		"err.unavailable":       "Ce collègue n'est pas disponible en ce moment (pas prêt ou déjà complet).",
		"err.notelephony":       "Ce bureau n'a pas de téléphonie.",
		"err.nophone":           "Ce contact n'a pas de numéro de téléphone.",
		"err.csrf":              "Ce formulaire a expiré ; rechargez la page et réessayez.",
		"err.login":             "Connectez-vous d'abord en choisissant un agent.",
		"err.upload":            "Le fichier n'a pas pu être lu ; choisissez-le de nouveau.",
		"err.other":             "Quelque chose n'a pas fonctionné ; réessayez dans un instant.",
		"detail":                "Détail",
	},
	english: {
		"desk":                  "Email desk",
		"demo":                  "Demo: there is no password, pick who you are. Emails never leave this machine.",
		"login":                 "Log in",
		"login.as":              "Agent",
		"logout":                "Log out",
		"language":              "Language",
		"inbox":                 "Inbox",
		"offers":                "Offered interactions",
		"owned":                 "My interactions",
		"workbins":              "Workbins",
		"workbin.in-progress":   "In progress",
		"workbin.drafts":        "Drafts",
		"workbin.pending":       "Pending",
		"consults":              "Consultations",
		"reviews":               "QA reviews",
		"quarantine":            "Quarantine",
		"quarantine.intro":      "Mail held by the filters or the sender lists: release what is legitimate, it is routed like the rest.",
		"release":               "Release",
		"withdraw":              "Withdraw from review",
		"queues":                "Queues",
		"none":                  "None",
		"accept":                "Accept",
		"decline":               "Decline",
		"open":                  "Open",
		"status":                "Status",
		"status.ready":          "Ready",
		"status.not-ready":      "Not ready",
		"status.not-responding": "Not responding",
		"status.logged-out":     "Logged out",
		"reply":                 "Reply",
		"replyall":              "Reply all",
		"transfer":              "Transfer",
		"forward":               "Forward for help",
		"consult":               "Consult",
		"workbin":               "Save to workbin",
		"resume":                "Resume",
		"done":                  "Mark done",
		"delete":                "Delete",
		"from":                  "From",
		"to":                    "To",
		"cc":                    "Cc",
		"bcc":                   "Bcc",
		"subject":               "Subject",
		"date":                  "Date",
		"attachments":           "Attachments",
		"casedata":              "Case data",
		"readonly":              "read-only",
		"key":                   "Key",
		"value":                 "Value",
		"save":                  "Save",
		"notes":                 "Notes",
		"note.add":              "Add note",
		"disposition":           "Disposition code",
		"disposition.set":       "Apply",
		"contact":               "Contact",
		"history":               "Contact history",
		"call":                  "Call",
		"call.placed":           "Call placed",
		"draft":                 "Draft",
		"text":                  "Text",
		"html":                  "HTML",
		"attach":                "Attach",
		"detach":                "Remove",
		"responses":             "Standard responses",
		"insert":                "Insert",
		"send":                  "Send",
		"send.review":           "Ask for a review",
		"discard":               "Discard",
		"remarks":               "Remarks",
		"reason":                "Reason",
		"approve":               "Approve",
		"reject":                "Reject",
		"review":                "Review",
		"review.edit":           "Correct",
		"review.author":         "Author",
		"review.round":          "Round",
		"review.queue":          "Review queue",
		"pull":                  "Take the next one",
		"agent":                 "Agent",
		"queue":                 "Queue",
		"note":                  "Note",
		"instructions":          "Instructions",
		"asattachment":          "Attach the original",
		"question":              "Question",
		"answer":                "Answer the consultation",
		"answers":               "Colleagues' answers",
		"colleagues":            "Colleagues",
		"cancel":                "Cancel",
		"stats.waiting":         "Waiting",
		"stats.offered":         "Offered",
		"stats.oldest":          "Oldest wait",
		"stats.target":          "Over target",
		"stats.available":       "Agents available",
		"stats.quarantined":     "Quarantined",
		"stats.bounced":         "Bounced",
		"search":                "Search",
		"directory":             "Directory",
		"newemail":              "New email to…",
		"newemail.call":         "New email during the call",
		"live":                  "Live updates",
		"event":                 "News",
		"customer.html":         "Customer's HTML (cleaned, no script)",
		"children":              "Emails of the conversation",
		"kind.inbound":          "Inbound email",
		"kind.outbound":         "Outbound email",
		"kind.consult":          "Consultation",
		"kind.review":           "Review",
		"err.forbidden":         "You are not allowed to do that on this interaction.",
		"err.transition":        "This action is not possible in the state the interaction is in.",
		"err.input":             "What was entered is not accepted; correct it and try again.",
		"err.toolarge":          "That is too long or too large; shorten or lighten it and try again.",
		"err.notfound":          "This item does not exist, or no longer does.",
		"err.conflict":          "Someone else just changed this interaction; reload the page.",
		"err.unavailable":       "This colleague is not available right now (not ready, or full).",
		"err.notelephony":       "This desk has no telephony.",
		"err.nophone":           "This contact has no phone number.",
		"err.csrf":              "This form has expired; reload the page and try again.",
		"err.login":             "Log in first by picking an agent.",
		"err.upload":            "The file could not be read; choose it again.",
		"err.other":             "Something did not work; try again in a moment.",
		"detail":                "Detail",
	},
}

// T returns the word for key, or key itself when the catalogue lacks it
// (a missing word shows, it does not break the page).
func (c catalogue) T(key string) string {
	if s, ok := c[key]; ok {
		return s
	}
	return key
}

// errKey returns the catalogue key of the sentence that explains err.
func errKey(err error) string {
	switch {
	case errors.Is(err, errCSRF):
		return "err.csrf"
	case errors.Is(err, errUpload):
		return "err.upload"
	case errors.Is(err, emailflow.ErrNoTelephony):
		return "err.notelephony"
	case errors.Is(err, emailflow.ErrNoPhoneNumber):
		return "err.nophone"
	case errors.Is(err, emailflow.ErrUnavailable):
		return "err.unavailable"
	case errors.Is(err, emailflow.ErrTooLarge):
		return "err.toolarge"
	case errors.Is(err, emailflow.ErrInvalidTransition):
		return "err.transition"
	case errors.Is(err, emailflow.ErrForbidden):
		return "err.forbidden"
	case errors.Is(err, emailflow.ErrInvalidInput):
		return "err.input"
	case errors.Is(err, emailflow.ErrNotFound):
		return "err.notfound"
	case errors.Is(err, emailflow.ErrConflict):
		return "err.conflict"
	}
	return "err.other"
}

// errDetail is the part of the SDK's message worth showing beside the
// sentence: what was refused, without the package's prefix. Unknown
// errors show no detail (they may say more than a user should read).
func errDetail(err error) string {
	if errKey(err) == "err.other" || errors.Is(err, errCSRF) {
		return ""
	}
	return strings.TrimPrefix(err.Error(), "emailflow: ")
}
