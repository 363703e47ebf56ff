// Validates SARIF logs against the SARIF 2.1.0 JSON schema, with Ajv.
//
//   node validate.js NODE_MODULES FILE...
//
// The schema is the one Microsoft's SARIF Multitool ships
// (@microsoft/sarif-multitool-linux/sarif-2.1.0.json): the OASIS SARIF 2.1.0
// schema, declared as JSON Schema 2020-12 there, hence Ajv2020. Prints one
// line per file ("valid FILE" or "invalid FILE" and the errors, one per line)
// and exits 1 when any file is invalid, 2 when the schema cannot be loaded.
'use strict';
const fs = require('fs');
const path = require('path');

const [nm, ...files] = process.argv.slice(2);
let validate, schema;
try {
	const Ajv2020 = require(path.join(nm, 'ajv/dist/2020')).default;
	const addFormats = require(path.join(nm, 'ajv-formats')).default;
	schema = JSON.parse(fs.readFileSync(
		path.join(nm, '@microsoft/sarif-multitool-linux/sarif-2.1.0.json'), 'utf8'));
	// strict: false because the schema uses keywords Ajv's strict mode
	// refuses (e.g. "default" next to "$ref"); every check still applies.
	const ajv = new Ajv2020({ allErrors: true, strict: false });
	addFormats(ajv);
	validate = ajv.compile(schema);
} catch (e) {
	console.log(`cannot load the SARIF schema: ${e.message}`);
	process.exit(2);
}
console.log(`schema: ${schema.title}`);
let bad = 0;
for (const f of files) {
	let doc;
	try {
		doc = JSON.parse(fs.readFileSync(f, 'utf8'));
	} catch (e) {
		console.log(`invalid ${f}\n  not JSON: ${e.message}`);
		bad++;
		continue;
	}
	if (validate(doc)) {
		console.log(`valid ${f}`);
	} else {
		bad++;
		console.log(`invalid ${f}`);
		for (const e of validate.errors)
			console.log(`  ${e.instancePath || '/'}: ${e.message} ${JSON.stringify(e.params)}`);
	}
}
process.exit(bad ? 1 : 0);
