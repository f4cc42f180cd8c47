package compose

import "net/mail"

var testFrom = mail.Address{Name: "Acme Support", Address: "support@acme.test"}
