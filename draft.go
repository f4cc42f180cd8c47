package emailflow

import (
	"context"
	"fmt"
	"html"
	"io"
	"mime"
	"net/mail"
	"slices"
	"strings"

	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
)

// Draft is an outbound email being written: the outbound interaction (its
// id, state, queue, mailbox: the embedded Interaction) and the email's
// current content. Reply, ReplyAll, Forward, ForwardFromHistory and
// NewEmail return one, as do Draft and every edit, so the caller has what
// it shows next without reading it again. Both are the caller's copies.
type Draft struct {
	*interaction.Interaction
	Email *Email
}

// Draft returns outbound draft id as it stands. Only its owner reads it
// through this call. Errors: ErrNotFound; ErrForbidden (not the owner);
// ErrInvalidInput (not an outbound interaction).
func (ac *Actor) Draft(ctx context.Context, id string) (*Draft, error) {
	var out *Draft
	err := ac.w.view(ctx, func(t *tx) error {
		o, err := owned(t, ac.id, id)
		if err != nil {
			return err
		}
		e, err := draftEmail(t, o)
		if err != nil {
			return err
		}
		out = &Draft{Interaction: o, Email: e}
		return nil
	})
	return out, err
}

// DraftContent is the whole editable content of a draft, for ReplaceDraft.
type DraftContent struct {
	// From is the mailbox address to send from (see DraftPatch.From);
	// empty keeps the draft's.
	From        string
	To, Cc, Bcc []mail.Address
	Subject     string
	Text        string
	HTML        string
}

// DraftPatch changes some fields of a draft: a nil field is left as it is,
// a non-nil one replaces the field (a pointer to an empty value clears
// it). Go's new(expr) makes the pointers: DraftPatch{Text: new("Merci")}.
type DraftPatch struct {
	// From is the mailbox to send from, by address. A reply or forward may
	// leave from its own mailbox or another of its queue's
	// (Options.Mailboxes with that queue); a new email from any of ours.
	// Anything else is ErrFromNotAllowed.
	From *string
	// To, Cc and Bcc replace the recipient lists.
	To, Cc, Bcc *[]mail.Address
	Subject     *string
	// Text replaces the plain-text body. When the draft has an HTML body
	// and HTML is nil, the HTML follows: the agent's part (above the
	// quoted original) is made again from the new text, and the quoted
	// original's HTML is kept.
	Text *string
	// HTML replaces the HTML body; it is sanitized as customer HTML is
	// (formatting, links, images, tables kept; scripts, handlers, forms
	// dropped). A pointer to "" makes the draft plain text.
	HTML *string
	// RemoveAttachments are ids of attachments to take off the draft; an
	// id the draft does not have is ErrNotFound.
	RemoveAttachments []string
}

// ErrFromNotAllowed reports a From the draft may not be sent from: not
// one of our mailboxes, or not one of its queue's (see DraftPatch.From).
// It is an ErrForbidden.
var ErrFromNotAllowed = fmt.Errorf("%w: mailbox not allowed as From", ErrForbidden)

// EditDraft changes the fields of outbound draft id that p sets and leaves
// the others as they are, and returns the draft as it now is (an email
// whose delivery failed for good becomes a draft again). Errors:
// ErrNotFound (the draft, or an attachment to remove); ErrForbidden (not
// its owner); ErrFromNotAllowed; ErrInvalidTransition (not a draft: sent,
// in review...); ErrInvalidInput (a malformed address, CR or LF in the
// subject or a name); ErrTooLarge (over Limits.DraftBytes or
// Limits.Recipients). A refused edit changes nothing.
func (ac *Actor) EditDraft(ctx context.Context, id string, p DraftPatch) (*Draft, error) {
	return ac.w.editDraft(ctx, ac.id, id, "edit", func(t *tx, o *interaction.Interaction, e *Email) error {
		return ac.w.applyPatch(o, e, p)
	})
}

// ReplaceDraft replaces the whole editable content of outbound draft id
// with c: recipients, subject and bodies left empty in c are cleared (an
// empty From keeps the draft's mailbox). It returns the draft as it now
// is. Errors as for EditDraft.
func (ac *Actor) ReplaceDraft(ctx context.Context, id string, c DraftContent) (*Draft, error) {
	return ac.EditDraft(ctx, id, c.Patch())
}

// Patch returns the patch that replaces a draft's whole content with c
// (From only when c sets it).
func (c DraftContent) Patch() DraftPatch {
	p := DraftPatch{To: &c.To, Cc: &c.Cc, Bcc: &c.Bcc, Subject: &c.Subject, Text: &c.Text, HTML: &c.HTML}
	if c.From != "" {
		p.From = &c.From
	}
	return p
}

// applyPatch applies p to e, the draft email of outbound o, checking the
// result as a whole: what Render would refuse is refused now.
func (w *Workspace) applyPatch(o *interaction.Interaction, e *Email, p DraftPatch) error {
	c := DraftContent{To: e.To, Cc: e.Cc, Bcc: e.Bcc, Subject: e.Subject, Text: e.Text, HTML: e.HTML}
	if p.To != nil {
		c.To = *p.To
	}
	if p.Cc != nil {
		c.Cc = *p.Cc
	}
	if p.Bcc != nil {
		c.Bcc = *p.Bcc
	}
	if p.Subject != nil {
		c.Subject = *p.Subject
	}
	if p.Text != nil {
		c.Text = *p.Text
		if p.HTML == nil && e.HTML != "" {
			c.HTML = htmlInStep(e.HTML, e.Text, c.Text)
		}
	}
	var images []compose.Attachment
	if p.HTML != nil {
		c.HTML = *p.HTML
		if err := checkBodyText("HTML", c.HTML); err != nil {
			return err
		}
		var err error
		if c.HTML, images, err = w.agentHTML(c.HTML); err != nil {
			return err
		}
	}
	if err := w.checkDraftContent(c); err != nil {
		return err
	}
	var from mail.Address
	if p.From != nil {
		var err error
		if from, err = w.allowedFrom(o, *p.From); err != nil {
			return err
		}
	}
	atts := e.Attachments
	for _, id := range p.RemoveAttachments {
		i := slices.IndexFunc(atts, func(a Attachment) bool { return a.ID == id })
		if i < 0 {
			return fmt.Errorf("%w: draft %s has no attachment %s", ErrNotFound, o.ID, id)
		}
		atts = append(atts[:i:i], atts[i+1:]...)
	}
	for _, a := range images {
		att := fromComposeAttachment(e.ID, 0, a)
		att.ID = w.ids.NewID()
		atts = append(slices.Clip(atts), att)
	}
	if err := w.checkAttachments(atts); err != nil {
		return err
	}
	// Copies: the email is the store's once written, p is the host's.
	e.To, e.Cc, e.Bcc = slices.Clone(c.To), slices.Clone(c.Cc), slices.Clone(c.Bcc)
	e.Subject, e.Text, e.HTML = c.Subject, c.Text, c.HTML
	e.Attachments = atts
	if p.From != nil {
		e.From, e.Mailbox = from, from.Address
		o.Mailbox = from.Address
	}
	return nil
}

// allowedFrom resolves a From an agent chose for outbound o: one of our
// mailboxes, and for a reply or forward one of its queue's or its own.
func (w *Workspace) allowedFrom(o *interaction.Interaction, addr string) (mail.Address, error) {
	i := slices.IndexFunc(w.opts.Mailboxes, func(m Mailbox) bool { return strings.EqualFold(m.Address, addr) })
	if i < 0 {
		if strings.EqualFold(addr, o.Mailbox) {
			return w.mailboxAddress(o.Mailbox), nil
		}
		return mail.Address{}, fmt.Errorf("%w: %q is not one of our mailboxes", ErrFromNotAllowed, addr)
	}
	m := w.opts.Mailboxes[i]
	if o.Purpose == interaction.PurposeNew || strings.EqualFold(m.Address, o.Mailbox) {
		return m.mailAddress(), nil
	}
	q := m.Queue
	if q == "" {
		q = w.opts.DefaultQueue
	}
	if q != o.Queue {
		return mail.Address{}, fmt.Errorf("%w: %s is a mailbox of queue %q, and this email is of queue %q", ErrFromNotAllowed, m.Address, q, o.Queue)
	}
	return m.mailAddress(), nil
}

// htmlInStep returns the HTML body of a draft whose text went from
// oldText to text: the agent's part made again from the new text's own
// part, above the quoted or forwarded original's HTML, kept as it was.
func htmlInStep(oldHTML, oldText, text string) string {
	own, _ := compose.SplitQuoted(text)
	return compose.TextToHTML(own) + "\n" + quotedHTML(oldHTML, oldText)
}

// quotedHTML returns the part of a draft's HTML where the original starts
// (a reply's "On … wrote:" line and quote, a forward's header and
// message): found by the first line of the text's quoted part, which the
// builders write escaped in a div of their own, else by the quote markers
// of compose.SplitQuotedHTML; "" when there is no original.
func quotedHTML(h, text string) string {
	_, q := compose.SplitQuoted(text)
	if first, _, _ := strings.Cut(q, "\n"); strings.TrimSpace(first) != "" {
		if i := strings.Index(h, html.EscapeString(first)); i >= 0 {
			if j := strings.LastIndex(h[:i], "<div"); j >= 0 {
				return h[j:]
			}
			return h[i:]
		}
	}
	_, hq := compose.SplitQuotedHTML(h)
	return hq
}

// agentHTML makes HTML an agent wrote fit to store and send: images
// pasted as data: URLs become inline parts the HTML shows by cid:, then
// the HTML is sanitized as customer HTML is (compose.SanitizeHTML).
func (w *Workspace) agentHTML(h string) (string, []compose.Attachment, error) {
	maxSize, maxCount := w.attachmentLimits()
	h, images, err := compose.ExtractDataImages(h, &compose.ImageOptions{MaxSize: maxSize, MaxImages: maxCount, Hostname: w.opts.Hostname})
	if err != nil {
		return "", nil, domainErr(err)
	}
	return compose.SanitizeHTML(h), images, nil
}

// attachmentLimits are the size of all attachments of one message and
// their number, as Options.Parse sets them for inbound mail.
func (w *Workspace) attachmentLimits() (maxSize int64, maxCount int) {
	maxSize, maxCount = int64(compose.DefaultMaxSize), compose.DefaultMaxAttachments
	if l := w.opts.Parse; l != nil {
		if l.MaxSize > 0 {
			maxSize = l.MaxSize
		}
		if l.MaxAttachments > 0 {
			maxCount = l.MaxAttachments
		}
	}
	return maxSize, maxCount
}

// checkAttachments refuses a draft's attachments over the limits.
func (w *Workspace) checkAttachments(atts []Attachment) error {
	maxSize, maxCount := w.attachmentLimits()
	if len(atts) > maxCount {
		return fmt.Errorf("%w: a draft holds at most %d attachments", ErrTooLarge, maxCount)
	}
	var total int64
	for _, a := range atts {
		total += a.Size
	}
	if total > maxSize {
		return fmt.Errorf("%w: attachments would total over %d bytes", ErrTooLarge, maxSize)
	}
	return nil
}

// NewAttachment is a file to attach to a draft.
type NewAttachment struct {
	// Filename is the name shown to recipients; it is made safe with
	// compose.SafeFilename, and kept in OriginalFilename when it differs.
	Filename string
	// ContentType is a media type ("application/pdf", "image/png");
	// empty means application/octet-stream.
	ContentType string
	// Body is read to its end.
	Body io.Reader
	// Inline makes the file an inline part that the HTML body shows with
	// <img src="cid:ContentID">: the email is then rendered as
	// multipart/related.
	Inline bool
	// ContentID is the inline part's id, without angle brackets; empty
	// for an inline part means one is made. Ignored unless Inline.
	ContentID string
}

// AddAttachment attaches a file to outbound draft id and returns the
// attachment as stored (its ID, to remove it with DraftPatch; its
// ContentID, for an inline image's cid: reference). Errors as for
// EditDraft, plus ErrInvalidInput for an empty file name, a content type
// that is not a media type or a Content-ID that is not one, and
// ErrTooLarge over the per-message size or attachment count.
func (ac *Actor) AddAttachment(ctx context.Context, id string, f NewAttachment) (Attachment, error) {
	w := ac.w
	if err := checkHeaderText("filename", f.Filename); err != nil {
		return Attachment{}, err
	}
	if strings.TrimSpace(f.Filename) == "" {
		return Attachment{}, fmt.Errorf("%w: attachment file name is empty", ErrInvalidInput)
	}
	contentType := f.ContentType
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	if err := checkHeaderText("content type", contentType); err != nil {
		return Attachment{}, err
	}
	// What Render would refuse at Send is refused now, while the agent
	// can still choose another.
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || !strings.Contains(mt, "/") || strings.HasPrefix(mt, "/") || strings.HasSuffix(mt, "/") {
		return Attachment{}, fmt.Errorf("%w: attachment content type %q is not a media type (type/subtype)", ErrInvalidInput, contentType)
	}
	cid := ""
	if f.Inline {
		cid = strings.Trim(f.ContentID, "<>")
		if cid != "" {
			if _, err := mail.ParseAddress("<" + cid + ">"); err != nil || !strings.Contains(cid, "@") {
				return Attachment{}, fmt.Errorf("%w: Content-ID %q is not an id (left@right)", ErrInvalidInput, f.ContentID)
			}
		}
	}
	if f.Body == nil {
		return Attachment{}, fmt.Errorf("%w: attachment %q has no body", ErrInvalidInput, f.Filename)
	}
	maxSize, _ := w.attachmentLimits()
	data, err := io.ReadAll(io.LimitReader(f.Body, maxSize+1))
	if err != nil {
		return Attachment{}, fmt.Errorf("reading attachment: %w", err)
	}
	if int64(len(data)) > maxSize {
		return Attachment{}, fmt.Errorf("%w: attachment %q is over %d bytes", ErrTooLarge, f.Filename, maxSize)
	}
	var att Attachment
	_, err = w.editDraft(ctx, ac.id, id, "attach", func(t *tx, o *interaction.Interaction, e *Email) error {
		var name compose.Attachment
		name.SetFilename(f.Filename)
		att = Attachment{
			ID: w.ids.NewID(), Filename: name.Filename, OriginalFilename: name.OriginalFilename,
			ContentType: contentType, Size: int64(len(data)), Data: data, Inline: f.Inline,
		}
		if f.Inline {
			att.ContentID = cid
			if att.ContentID == "" {
				att.ContentID = att.ID + "@" + w.opts.Hostname
			}
			if slices.ContainsFunc(e.Attachments, func(a Attachment) bool { return a.ContentID == att.ContentID }) {
				return fmt.Errorf("%w: draft %s already has a part with Content-ID %s", ErrInvalidInput, id, att.ContentID)
			}
		}
		atts := append(slices.Clip(e.Attachments), att)
		if err := w.checkAttachments(atts); err != nil {
			return err
		}
		e.Attachments = atts
		return nil
	})
	if err != nil {
		return Attachment{}, err
	}
	return att, nil
}

// editDraft applies change to the draft email of outbound id, owned by
// agent and in an editable state (draft, or rejected by a reviewer), and
// returns the draft as written (copies).
func (w *Workspace) editDraft(ctx context.Context, agentID, id, action string, change func(*tx, *interaction.Interaction, *Email) error) (*Draft, error) {
	var out *Draft
	err := w.update(ctx, func(t *tx) error {
		o, err := owned(t, agentID, id)
		if err != nil {
			return err
		}
		if o.State == interaction.StateFailed {
			// A delivery that failed for good comes back to be corrected
			// and sent again.
			if err := o.Fire(ctx, interaction.EventEdit, agentID, t.now, ""); err != nil {
				return err
			}
		}
		if o.State != interaction.StateDraft && o.State != interaction.StateRejected {
			return fmt.Errorf("%w: outbound %s is %s; only a draft can be edited", ErrInvalidTransition, id, o.State)
		}
		e, err := draftEmail(t, o)
		if err != nil {
			return err
		}
		if err := change(t, o, e); err != nil {
			return err
		}
		e.UpdatedAt = t.now
		if err := t.PutEmail(ctx, e); err != nil {
			return err
		}
		o.Subject = e.Subject
		o.Record(agentID, action, t.now, "")
		if err := t.UpdateInteraction(ctx, o); err != nil {
			return err
		}
		out = &Draft{Interaction: o, Email: e}
		return t.emit(EventDraft, o, agentID, agentID, action)
	})
	if err != nil {
		return nil, err
	}
	return out.copy(), nil
}

// copy returns copies of a draft written in a transaction, which are the
// store's (see Tx): what the host gets.
func (d *Draft) copy() *Draft {
	return &Draft{Interaction: d.Interaction.Clone(), Email: d.Email.Clone()}
}
