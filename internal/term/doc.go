// Package term tells whether a file is a terminal, for the commands that
// draw progress bars or open a browser only when a person is watching.
package term
