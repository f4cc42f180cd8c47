// Package label gives display labels, in French and English, to what
// emailflow shows an agent or a supervisor: interaction states, event
// types, privileges, review decisions and reject reasons.
//
// A [Catalogue] maps each key of a [Category] to its label in one language.
// [French] (the default, with the words of the reference desk: a rejected
// email is "Refusé") and [English] return fresh copies that a host may
// change with [Catalogue.Set] or replace whole, and a catalogue may fall
// back on another for the keys it lacks. A key that no catalogue knows
// shows as itself made readable ("dial-any" becomes "Dial any"), so a new
// state never shows blank.
//
// Keys are the string values of the domain's types (interaction.State,
// interaction.Decision) and of the Workspace's event types and privileges,
// so that the package stays a leaf: it imports only package interaction.
// [Keys] lists what the built-in catalogues cover, for a test beside each
// enumeration to check that nothing lacks a label.
package label
