package contact_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow/contact"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"helene", "helene"},
		{"HELENE", "helene"},
		{"Hélène", "helene"},
		{"HÉLÈNE", "helene"},
		{"François", "francois"},
		{"Œuvre", "oeuvre"},
		{"Lætitia", "laetitia"},
		{"Straße", "strasse"},
		{"Łódź", "lodz"},
		{"Søren", "soren"},
		{"ﬁlm", "film"},
		{"Zoë Saint-Exupéry", "zoe saint-exupery"},
		{"Ñandú", "nandu"},
		{"Dvořák", "dvorak"},
		{"東京", "東京"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, contact.Fold(tt.in))
		})
	}
}

func TestFoldAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { contact.Fold("helene dupont") }))
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { contact.Fold("Hélène Dupont") }), 1.0)
}

func TestNormalizeAddress(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"jean@x.fr", "jean@x.fr"},
		{"  Jean+Shop@X.fr ", "jean+shop@x.fr"},
		{"<Jean.Dupont@Example.COM>", "jean.dupont@example.com"},
		{"j.e.a.n@x.fr", "j.e.a.n@x.fr"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, contact.NormalizeAddress(tt.in), "NormalizeAddress(%q)", tt.in)
	}
}

func TestDigits(t *testing.T) {
	assert.Equal(t, "33612345678", contact.Digits("+33 6 12 34 56 78"))
	assert.Equal(t, "0612345678", contact.Digits("06.12.34.56.78"))
	assert.Equal(t, "123", contact.Digits("123"))
	assert.Equal(t, "", contact.Digits("abc"))
}

func TestContactAccessors(t *testing.T) {
	tests := []struct {
		name              string
		c                 contact.Contact
		email, phone, dsp string
	}{
		{"empty", contact.Contact{}, "", "", ""},
		{"full", contact.Contact{FirstName: "Hélène", LastName: "Dupont", Emails: []string{"h@x.fr", "b@y.fr"}, Phones: []string{"+33 6", "01"}},
			"h@x.fr", "+33 6", "Hélène Dupont"},
		{"first only", contact.Contact{FirstName: " Hélène "}, "", "", "Hélène"},
		{"last only", contact.Contact{LastName: "Dupont"}, "", "", "Dupont"},
		{"email only", contact.Contact{Emails: []string{"Jean+Shop@X.fr"}}, "Jean+Shop@X.fr", "", "Jean+Shop@X.fr"},
		{"phone only", contact.Contact{Phones: []string{"+33 1 23"}}, "", "+33 1 23", "+33 1 23"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.email, tt.c.PrimaryEmail())
			assert.Equal(t, tt.phone, tt.c.PrimaryPhone())
			assert.Equal(t, tt.dsp, tt.c.DisplayName())
		})
	}
}

func TestHasEmail(t *testing.T) {
	c := contact.Contact{Emails: []string{"Jean+Shop@X.fr", "jean@y.fr"}}
	assert.True(t, c.HasEmail("jean+shop@x.fr"))
	assert.True(t, c.HasEmail(" JEAN+SHOP@X.FR "))
	assert.True(t, c.HasEmail("<Jean@Y.fr>"))
	assert.False(t, c.HasEmail("jean@x.fr"), "plus-addressing is kept")
	assert.False(t, c.HasEmail(""))
	assert.False(t, contact.Contact{}.HasEmail("a@b.fr"))
}

func TestClone(t *testing.T) {
	orig := contact.Contact{
		ID: "c1", Emails: []string{"a@b.fr"}, Phones: []string{"0102"},
		Attributes: map[string]string{"tier": "gold"},
	}
	cp := orig.Clone()
	require.Equal(t, orig, cp)
	cp.Emails[0] = "x@y.fr"
	cp.Phones[0] = "9999"
	cp.Attributes["tier"] = "silver"
	assert.Equal(t, "a@b.fr", orig.Emails[0])
	assert.Equal(t, "0102", orig.Phones[0])
	assert.Equal(t, "gold", orig.Attributes["tier"])

	empty := contact.Contact{}.Clone()
	assert.Nil(t, empty.Emails)
	assert.Nil(t, empty.Phones)
	assert.Nil(t, empty.Attributes)
}

func TestValidate(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	ok := contact.Contact{
		ID: "c1", FirstName: "Hélène", LastName: "Dupont",
		Emails:     []string{"helene.dupont+shop@example.fr", "h@x.fr"},
		Phones:     []string{"+33 6 12 34 56 78", "(01) 23-45.67/89"},
		Language:   "fr-CA",
		Attributes: map[string]string{"tier": "gold"},
		CreatedAt:  now, UpdatedAt: now.Add(time.Hour),
	}
	require.NoError(t, ok.Validate())
	require.NoError(t, contact.Contact{Emails: []string{"a@b.fr"}}.Validate(), "an address alone is enough")
	require.NoError(t, contact.Contact{Phones: []string{"3949"}}.Validate(), "a number alone is enough")

	tests := []struct {
		name   string
		change func(*contact.Contact)
		field  string
	}{
		{"empty contact", func(c *contact.Contact) { *c = contact.Contact{ID: "x"} }, "Contact"},
		{"unparsable address", func(c *contact.Contact) { c.Emails[1] = "not an address" }, "Emails[1]"},
		{"empty address", func(c *contact.Contact) { c.Emails[0] = " " }, "Emails[0]"},
		{"display name in address", func(c *contact.Contact) { c.Emails[0] = "Hélène <h@x.fr>" }, "Emails[0]"},
		{"header injection in address", func(c *contact.Contact) { c.Emails[0] = "h@x.fr\r\nBcc: all@x.fr" }, "Emails[0]"},
		{"duplicate address", func(c *contact.Contact) { c.Emails[1] = "Helene.Dupont+Shop@Example.fr" }, "Emails[1]"},
		{"letters in phone", func(c *contact.Contact) { c.Phones[0] = "06 CALL ME" }, "Phones[0]"},
		{"plus inside phone", func(c *contact.Contact) { c.Phones[1] = "33+6" }, "Phones[1]"},
		{"too many digits", func(c *contact.Contact) { c.Phones[0] = "+33 6 12 34 56 78 90 12 34" }, "Phones[0]"},
		{"bad language", func(c *contact.Contact) { c.Language = "français" }, "Language"},
		{"newline in name", func(c *contact.Contact) { c.LastName = "Dupont\nBcc: x" }, "LastName"},
		{"empty attribute key", func(c *contact.Contact) { c.Attributes[""] = "v" }, "Attributes"},
		{"updated before created", func(c *contact.Contact) { c.UpdatedAt = now.Add(-time.Hour) }, "UpdatedAt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok.Clone()
			tt.change(&c)
			err := c.Validate()
			require.Error(t, err)
			assert.ErrorIs(t, err, contact.ErrInvalidInput)
			var fe *contact.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.field, fe.Field)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	err := contact.Contact{FirstName: "A", Emails: []string{"bad"}, Phones: []string{"x"}, Language: "??"}.Validate()
	require.Error(t, err)
	assert.True(t, errors.Is(err, contact.ErrInvalidInput))
	for _, f := range []string{"Emails[0]", "Phones[0]", "Language"} {
		assert.Contains(t, err.Error(), f)
	}
}
