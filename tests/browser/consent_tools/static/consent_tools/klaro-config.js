/* Klaro's config on the test site, as docs/consent.md tells a site to write it: a service named tailored_cms. */
window.klaroConfig = {
  version: 1,
  elementID: "klaro",
  storageMethod: "cookie",
  storageName: "klaro",
  acceptAll: true,
  mustConsent: false,
  translations: {
    en: {
      purposes: { personalization: "Personalization" },
      tailored_cms: { description: "Notes what you read here, to tailor this site to you." },
    },
  },
  services: [
    { name: "tailored_cms", title: "Personalization", purposes: ["personalization"], default: false, cookies: [] },
  ],
};
