/* Google Consent Mode v2 on the test site: gtag's defaults before the visitor chose, as Google documents them.
   The tests then call gtag("consent", "update", ...) as a CMP does. */
window.dataLayer = window.dataLayer || [];
window.gtag = function () {
  window.dataLayer.push(arguments);
};
window.gtag("consent", "default", {
  ad_storage: "denied",
  ad_user_data: "denied",
  ad_personalization: "denied",
  analytics_storage: "denied",
  personalization_storage: "denied",
});
