// Renders /api/openapi.json with Swagger UI; requests are same-origin, so "Try it out" sends the session cookie.
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/api/openapi.json',
    dom_id: '#pressluft-docs',
    deepLinking: true,
    tryItOutEnabled: false,
    withCredentials: true,
    validatorUrl: null,
    requestInterceptor: function (request) { request.credentials = 'same-origin'; return request },
  })
})
