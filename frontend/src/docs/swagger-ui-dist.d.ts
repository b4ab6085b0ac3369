// swagger-ui-dist ships no types; this is the part of Swagger UI's
// configuration the docs page uses (https://swagger.io/docs/open-source-tools/swagger-ui/usage/configuration/).
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  export interface SwaggerRequest {
    url: string;
    method?: string;
    headers: Record<string, string>;
  }
  export interface SwaggerUI {
    preauthorizeApiKey(scheme: string, value: string): void;
    authActions: { logout(schemes: string[]): void };
  }
  export interface SwaggerConfig {
    url: string;
    dom_id: string;
    deepLinking?: boolean;
    tryItOutEnabled?: boolean;
    persistAuthorization?: boolean;
    displayRequestDuration?: boolean;
    docExpansion?: "list" | "full" | "none";
    filter?: boolean;
    presets?: unknown[];
    layout?: string;
    requestInterceptor?: (req: SwaggerRequest) => SwaggerRequest;
    onComplete?: () => void;
  }
  interface SwaggerUIBundle {
    (config: SwaggerConfig): SwaggerUI;
    presets: { apis: unknown };
  }
  const bundle: SwaggerUIBundle;
  export default bundle;
}
