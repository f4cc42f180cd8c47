package compose

import "errors"

// ErrInvalidInput reports input that compose refuses: CR or LF in a header
// value, an invalid address or Message-ID, a missing raw message, a missing
// template field. Match it with errors.Is.
var ErrInvalidInput = errors.New("compose: invalid input")

// ErrTooLarge reports a message beyond a limit of [ParseOptions]: total size,
// header size, number of attachments or of recipients. Match it with errors.Is.
var ErrTooLarge = errors.New("compose: message too large")
