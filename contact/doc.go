// Package contact is the pure domain model of the people a contact centre
// writes to: contacts with several email addresses and phone numbers,
// their validation, the normalization rules that make identification by
// address and accent-insensitive search work, an in-memory search Index,
// and the policy (Chooser, MostRecent) that picks one contact when several
// share an address.
//
// The package does no I/O and imports no other package of the module: the
// Workspace loads contacts from its Store or Directory, asks this package,
// and writes the outcome itself.
//
// Normalization rules, in one place:
//
//   - Addresses are compared by NormalizeAddress: trimmed and lower-cased as
//     a whole, local part included; plus-addressing is kept as written.
//   - Names and query words are compared by Fold: compatibility
//     decomposition, combining marks removed, lower-cased ("Hélène" and
//     "HELENE" both fold to "helene").
//   - Phone numbers are compared by their digits only (see Digits); see
//     Index for how a query finds a number.
//
// Errors wrap ErrInvalidInput (a refused contact or argument, see
// FieldError) or ErrNotFound; match them with errors.Is.
package contact
