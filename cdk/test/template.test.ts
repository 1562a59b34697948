/**
 * What the synthesized template must say, read from the template itself (one synthesis,
 * the suites in test/template/). The route list and the table's shape come from the same
 * files the Rust side tests against.
 */
import { synth } from "./synth.js";
import { apis } from "./template/apis.js";
import { data } from "./template/data.js";
import { functions } from "./template/functions.js";
import { site } from "./template/site.js";

const synthesized = synth();
apis(synthesized);
functions(synthesized);
data(synthesized);
site(synthesized);
