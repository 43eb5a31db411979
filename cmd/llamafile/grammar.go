package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/llamafile-go/llamafile/pkg/jsonschema"
)

// grammarFlags are the flags that constrain the output, each with its
// aliases; the last one given wins, as in llama.cpp, where each sets the
// same grammar.
var grammarFlags = []struct {
	names        []string
	spelled      string
	file, schema bool // the value names a file; the text is a JSON Schema
}{
	{[]string{"grammar"}, "--grammar", false, false},
	{[]string{"grammar-file"}, "--grammar-file", true, false},
	{[]string{"j", "json-schema"}, "-j/--json-schema", false, true},
	{[]string{"json-schema-file"}, "--json-schema-file", true, true},
}

// readGrammar sets o.grammar from the grammar flags: GBNF text as given or
// read from a file, or a JSON Schema (given or read) converted to GBNF.
func (o *options) readGrammar(c *cli.Context, args []string, readFile readFileFunc) error {
	chosen, at := -1, -2
	for i, f := range grammarFlags {
		if !c.IsSet(f.names[0]) {
			continue
		}
		if idx := lastIndex(args, f.names...); idx > at {
			chosen, at = i, idx
		}
	}
	if chosen < 0 {
		return nil
	}
	f := grammarFlags[chosen]
	value := c.String(f.names[0])
	// Errors name the flag, and the file for the file flags.
	flag := f.spelled
	if f.file {
		flag += " " + value
		data, err := readFile(value)
		if err != nil {
			return usageError{fmt.Errorf("%s: %w", f.spelled, err)}
		}
		value = string(data)
	}
	if f.schema {
		g, err := jsonschema.ToGrammar([]byte(value))
		if err != nil {
			return usageError{fmt.Errorf("%s: %w", flag, err)}
		}
		value = g
	}
	o.grammar, o.grammarFlag = value, flag
	return nil
}
