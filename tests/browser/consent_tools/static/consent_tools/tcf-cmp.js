/* A minimal IAB TCF v2.2 CMP for the test site, built from the IAB's own @iabtcf/cmpapi and @iabtcf/core (the
   __tcfapi stub, @iabtcf/stub, is loaded before it). It keeps the visitor's TC string in localStorage, as CMPs
   keep theirs, and says so to __tcfapi on every page ("tcloaded"); window.testCmp.accept(purposes) and refuse()
   are what a CMP's buttons do ("useractioncomplete"). */
import { CmpApi } from "../npm/@iabtcf/cmpapi/lib/mjs/index.js";
import { GVL, TCModel, TCString } from "@iabtcf/core";

const CMP_ID = 300;
const STORED = "test-cmp-tc-string";

const purposes = {};
for (let id = 1; id <= 11; id++) purposes[id] = { id, name: `Purpose ${id}`, description: "", illustrations: [] };
const gvl = new GVL({
  gvlSpecificationVersion: 3,
  vendorListVersion: 1,
  tcfPolicyVersion: 5,
  lastUpdated: "2026-01-01T00:00:00Z",
  purposes,
  specialPurposes: {},
  features: {},
  specialFeatures: {},
  vendors: {},
  stacks: {},
  dataCategories: {},
});

const cmpApi = new CmpApi(CMP_ID, 1, true);

function encode(consented) {
  const model = new TCModel(gvl);
  model.cmpId = CMP_ID;
  model.cmpVersion = 1;
  model.isServiceSpecific = true;
  model.purposeConsents.set(consented);
  return TCString.encode(model);
}

function decided(consented) {
  const tcString = encode(consented);
  localStorage.setItem(STORED, tcString);
  cmpApi.update(tcString, false);
}

window.testCmp = {
  accept: (consented = [1, 5, 6]) => decided(consented),
  refuse: () => decided([]),
};

const stored = localStorage.getItem(STORED);
cmpApi.update(stored || "", !stored); // a decision made earlier, or the CMP's UI shown
