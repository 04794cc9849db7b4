"""Each aggregate's SQL, as named statements with explicit column lists.

One module per aggregate (`calls`, `proposals`, ...), the same name as its service module:
the service holds the use-cases and the row mappers (rows are read by column name), this
package holds the statements, so a schema change finds every query that reads a column here.
Statements are whole strings: nothing edits SQL by string replacement at run time.
"""
