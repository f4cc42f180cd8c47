package qa

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emailflow/emailflow/interaction"
)

// Round is one review round of an outbound email (see interaction.Round).
type Round = interaction.Round

// Edit is one change a reviewer made to an email in review.
type Edit = interaction.RoundEdit

// Content is what of an email a review freezes (see
// interaction.EmailContent).
type Content = interaction.EmailContent

// AttachmentDigest identifies an attachment of Content by its digest.
type AttachmentDigest = interaction.AttachmentDigest

// Decision is a round's verdict (see interaction.Decision).
type Decision = interaction.Decision

// Decisions, re-exported from package interaction.
const (
	Pending   = interaction.DecisionPending
	Approved  = interaction.DecisionApproved
	Rejected  = interaction.DecisionRejected
	Withdrawn = interaction.DecisionWithdrawn
)

// Status values of the read-only case data key the Workspace keeps on an
// outbound email under review and on the inbound it answers.
const (
	StatusInReview  = "in review"
	StatusApproved  = "approved"
	StatusRejected  = "rejected"
	StatusWithdrawn = "withdrawn"
)

// DefaultRejectReasons are the reason codes a reviewer picks from when the
// host configures none.
var DefaultRejectReasons = []string{"accuracy", "tone", "spelling", "compliance", "incomplete", "other"}

// Hash returns the content hash of c: "sha256:" and the hex SHA-256 of an
// unambiguous encoding of every field (each length-prefixed, in a fixed
// order). Two contents have the same hash exactly when every field is equal.
func Hash(c Content) string {
	h := sha256.New()
	str := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	count := func(n int) { str(strconv.Itoa(n)) }
	addrs := func(as []mail.Address) {
		count(len(as))
		for _, a := range as {
			str(a.Name)
			str(a.Address)
		}
	}
	strs := func(ss []string) {
		count(len(ss))
		for _, s := range ss {
			str(s)
		}
	}
	str("emailflow-qa-content-v1")
	addrs([]mail.Address{c.From})
	addrs(c.To)
	addrs(c.Cc)
	addrs(c.Bcc)
	addrs(c.ReplyTo)
	str(c.Subject)
	str(c.Text)
	str(c.HTML)
	strs(c.InReplyTo)
	strs(c.References)
	count(len(c.Attachments))
	for _, a := range c.Attachments {
		strs([]string{a.Filename, a.ContentType, a.ContentID, strconv.FormatBool(a.Inline), strconv.FormatInt(a.Size, 10), a.SHA256})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Digest returns the AttachmentDigest of an attachment body.
func Digest(filename, contentType, contentID string, inline bool, body []byte) AttachmentDigest {
	sum := sha256.Sum256(body)
	return AttachmentDigest{Filename: filename, ContentType: contentType, ContentID: contentID, Inline: inline, Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])}
}

// Submit returns the next round of an email with the given rounds: numbered
// after the last one, pending, by author, reviewed by review interaction
// reviewID, for content c. It fails with interaction.ErrInvalidInput when
// the last round is still pending (an email is in one review at a time) or
// an id is empty.
func Submit(rounds []Round, author, reviewID string, c Content, requested bool, at time.Time) (Round, error) {
	if author == "" || reviewID == "" {
		return Round{}, fmt.Errorf("%w: a round needs an author and a review id", interaction.ErrInvalidInput)
	}
	if r := Current(rounds); r != nil && r.Decision == Pending {
		return Round{}, fmt.Errorf("%w: round %d is still pending", interaction.ErrInvalidInput, r.Number)
	}
	h := Hash(c)
	return Round{
		Number: len(rounds) + 1, ReviewID: reviewID, Author: author, Requested: requested,
		Decision: Pending, SubmittedAt: at, SubmittedHash: h, Hash: h,
	}, nil
}

// Current returns the last round, or nil when there is none. The pointer
// is into rounds: changing it changes the slice.
func Current(rounds []Round) *Round {
	if len(rounds) == 0 {
		return nil
	}
	return &rounds[len(rounds)-1]
}

// MustReview reports whether an email with these rounds must be reviewed
// again whatever the policy says now: its last decided round (withdrawn
// ones aside) was a rejection. A rejection is lifted only by an approval.
func MustReview(rounds []Round) bool {
	for i := len(rounds) - 1; i >= 0; i-- {
		switch rounds[i].Decision {
		case Rejected:
			return true
		case Approved:
			return false
		}
	}
	return false
}

// checkReviewer refuses a decision on r by reviewer: the round must be
// pending (interaction.ErrInvalidTransition) and the reviewer must not be
// its author (four eyes: interaction.ErrForbidden).
func checkReviewer(r *Round, reviewer string) error {
	if r.Decision != Pending {
		return fmt.Errorf("%w: review round %d is already %s", interaction.ErrInvalidTransition, r.Number, r.Decision)
	}
	if reviewer == "" || reviewer == r.Author {
		return fmt.Errorf("%w: %q may not review their own email (four eyes)", interaction.ErrForbidden, reviewer)
	}
	return nil
}

// Approve records reviewer's approval of r, whose content now hashes to
// current. Errors: interaction.ErrInvalidTransition (not pending);
// interaction.ErrForbidden (the author approving their own email);
// ErrChanged (the content is not the one under review).
func Approve(r *Round, reviewer, current string, at time.Time) error {
	if err := checkReviewer(r, reviewer); err != nil {
		return err
	}
	if current != r.Hash {
		return fmt.Errorf("%w: round %d reviewed %s, the email is now %s", ErrChanged, r.Number, short(r.Hash), short(current))
	}
	r.Reviewer, r.Decision, r.DecidedAt = reviewer, Approved, at
	return nil
}

// ErrChanged reports an email whose content is not the version under
// review. The Workspace maps it to its ErrConflict.
var ErrChanged = errors.New("content changed since the review")

func short(h string) string {
	if len(h) > 19 {
		return h[:19]
	}
	return h
}

// Reject records reviewer's rejection of r with reason (one of reasons)
// and remarks for the author. Errors: interaction.ErrInvalidTransition
// (not pending); interaction.ErrForbidden (the author); and
// interaction.ErrInvalidInput for a reason not in reasons or empty
// remarks.
func Reject(r *Round, reviewer, reason, remarks string, reasons []string, at time.Time) error {
	if err := checkReviewer(r, reviewer); err != nil {
		return err
	}
	if !slices.Contains(reasons, reason) {
		return fmt.Errorf("%w: reject reason %q is not one of %v", interaction.ErrInvalidInput, reason, reasons)
	}
	remarks = strings.TrimSpace(remarks)
	if remarks == "" {
		return fmt.Errorf("%w: a rejection needs remarks for the author", interaction.ErrInvalidInput)
	}
	r.Reviewer, r.Decision, r.Reason, r.Remarks, r.DecidedAt = reviewer, Rejected, reason, remarks, at
	return nil
}

// EditContent records reviewer's change of the content under review from
// before to after, and moves the round's hash to the new content. It
// reports false (and records nothing) when after equals before. Errors:
// interaction.ErrInvalidTransition (not pending); interaction.ErrForbidden
// (the author).
func EditContent(r *Round, reviewer string, before, after Content, at time.Time) (bool, error) {
	if err := checkReviewer(r, reviewer); err != nil {
		return false, err
	}
	h := Hash(after)
	if h == Hash(before) {
		return false, nil
	}
	r.Edits = append(r.Edits, Edit{By: reviewer, At: at, Before: before.Clone(), After: after.Clone()})
	r.Reviewer, r.Hash = reviewer, h
	return true, nil
}

// Withdraw records that the author took r back before a decision. Errors:
// interaction.ErrInvalidTransition (not pending); interaction.ErrForbidden
// (someone other than the author).
func Withdraw(r *Round, author string, at time.Time) error {
	if r.Decision != Pending {
		return fmt.Errorf("%w: review round %d is already %s", interaction.ErrInvalidTransition, r.Number, r.Decision)
	}
	if author != r.Author {
		return fmt.Errorf("%w: only the author %q may withdraw round %d", interaction.ErrForbidden, r.Author, r.Number)
	}
	r.Decision, r.DecidedAt = Withdrawn, at
	return nil
}
